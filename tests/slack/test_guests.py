"""Guests (users.info is_restricted) are held to the session's limit and told so."""

from __future__ import annotations

from tests.slack.conftest import slack_stack


async def test_guest_is_held_to_the_limit_and_told_so(client, tmp_path, fake_slack):
    async with slack_stack(client, tmp_path, fake_slack, guest_message_limit=2) as (stack, sim):
        root = await sim.mention("C1", "UGUEST", "hello, I'm a guest")
        ts = root["ts"]
        await sim.fake.wait_for(lambda: sim.fake.posts("C1", ts), what="reply 1")
        await sim.event(sim.message("C1", "UGUEST", "second", thread_ts=ts))
        await sim.fake.wait_for(lambda: len(sim.fake.posts("C1", ts)) >= 2, what="reply 2")
        await sim.event(sim.message("C1", "UGUEST", "third", thread_ts=ts))
        replies = await sim.fake.wait_for(
            lambda: len(sim.fake.posts("C1", ts)) >= 3 and sim.fake.posts("C1", ts), what="the limit notice"
        )
        assert "guest limit of 2" in replies[2]["text"]
        assert replies[2]["thread_ts"] == ts
        state = await stack.state(f"slack:T1:C1:{ts}")
        assert state["message_count"] == 2
        assert state["participants"]["UGUEST"]["is_guest"] is True

        # A member in the same thread is not limited.
        await sim.event(sim.message("C1", "UALICE", "I'm a full member", thread_ts=ts))
        replies = await sim.fake.wait_for(
            lambda: len(sim.fake.posts("C1", ts)) >= 4 and sim.fake.posts("C1", ts), what="the member's reply"
        )
        assert "message 3" in replies[3]["text"]
        # users.info was asked once per person (cached).
        assert sorted(c.params["user"] for c in sim.fake.calls_to("users.info")) == ["UALICE", "UGUEST"]
