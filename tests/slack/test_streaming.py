"""SlackReplyStream against the fake Slack Web API: streams, their fallbacks, and one message per reply."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from adapters.posted_log import SqlitePostedLog
from adapters.slack.blocks import decode_button_value
from adapters.slack.client import SlackClients
from adapters.slack.platform import SlackPlatform
from tests.slack.fake_slack import BOT_TOKEN
from workflows.contracts import Actor, Button, ButtonsBlock, ConversationKey, Reply, TextBlock

THREAD = ConversationKey(platform="slack", workspace="T1", channel="C1", thread="1700000000.000001")
DM_THREAD = ConversationKey(platform="slack", workspace="T1", channel="D1", thread="1700000000.000002")
DM_TOP = ConversationKey(platform="slack", workspace="T1", channel="D1", thread="dm")
ALICE = Actor(id="UALICE", name="Alice")
CHUNKS = [f"word{i} " for i in range(20)]
FULL = "".join(CHUNKS)


async def _platform(fake, tmp_path: Path, agent: bool = False, stop_button: bool = False):
    store = SqlitePostedLog(tmp_path / "posted.sqlite3")
    await store.open()
    return SlackPlatform(SlackClients(fake.api_url, BOT_TOKEN), store, agent=agent, stop_button=stop_button), store


@pytest.fixture
async def platform(fake_slack, tmp_path: Path):
    platform, store = await _platform(fake_slack, tmp_path)
    try:
        yield platform
    finally:
        await platform.clients.close()  # the Slack connection pool
        await store.close()


@pytest.fixture
async def agent_platform(fake_slack, tmp_path: Path):
    platform, store = await _platform(fake_slack, tmp_path, agent=True)
    try:
        yield platform
    finally:
        await platform.clients.close()  # the Slack connection pool
        await store.close()


async def stream_chunks(stream, chunks=CHUNKS, pause: float = 0.02) -> None:
    for chunk in chunks:
        await stream.append(chunk)
        await asyncio.sleep(pause)


def only_post(fake, channel: str = "C1") -> dict:
    """The one message in ``channel``, finished or still streaming."""
    posts = fake.posts(channel, streaming=True)
    assert len(posts) == 1, posts
    return posts[0]


async def test_a_reply_streams_in_a_thread_and_ends_as_one_message_with_feedback_buttons(platform, fake_slack):
    stream = await platform.open_stream(THREAD, "wf#run#1", ALICE)
    await stream.status("thinking…")
    await stream_chunks(stream)
    ref = await stream.finish(Reply(text=FULL))

    msg = only_post(fake_slack)
    assert msg["text"] == FULL and not msg["streaming"]
    assert ref.message_id == msg["ts"] and msg["thread_ts"] == THREAD.thread
    start = fake_slack.calls_to("chat.startStream")
    assert len(start) == 1 and len(fake_slack.calls_to("chat.stopStream")) == 1
    assert (start[0].params["recipient_user_id"], start[0].params["recipient_team_id"]) == ("UALICE", "T1")
    # Throttled: fewer appends than chunks, but more than one (the text arrived as a stream).
    assert 1 <= len(fake_slack.calls_to("chat.appendStream")) < len(CHUNKS) - 1
    assert not fake_slack.calls_to("chat.postMessage") and not fake_slack.calls_to("chat.update")
    assert fake_slack.statuses[0] == ("C1", THREAD.thread, "thinking…")
    assert fake_slack.statuses[-1] == ("C1", THREAD.thread, "")  # cleared at the end
    assert msg["metadata"] == {"event_type": "threadwork_post", "event_payload": {"key": "wf#run#1#0"}}
    # Feedback buttons under the answer, aimed at the session's feedback action.
    [actions] = [b for b in msg["blocks"] if b["type"] == "context_actions"]
    buttons = actions["elements"][0]
    assert buttons["type"] == "feedback_buttons"
    assert decode_button_value(buttons["positive_button"]["value"]) == (
        THREAD.session_id(),
        "session.feedback",
        "positive",
    )
    assert decode_button_value(buttons["negative_button"]["value"]) == (
        THREAD.session_id(),
        "session.feedback",
        "negative",
    )


async def test_dm_threads_stream_without_recipient_fields(platform, fake_slack):
    stream = await platform.open_stream(DM_THREAD, "wf#run#1", ALICE)
    await stream_chunks(stream)
    await stream.finish(Reply(text=FULL))
    assert only_post(fake_slack, "D1")["text"] == FULL
    [start] = fake_slack.calls_to("chat.startStream")
    assert "recipient_user_id" not in start.params and start.params["thread_ts"] == DM_THREAD.thread


@pytest.mark.parametrize(("key", "recipient"), [(DM_TOP, ALICE), (THREAD, None)], ids=["top-level DM", "no recipient"])
async def test_where_slack_cannot_stream_one_message_is_posted_and_updated(platform, fake_slack, key, recipient):
    stream = await platform.open_stream(key, "wf#run#1", recipient)
    await stream.status("thinking…")
    await stream_chunks(stream, pause=0.08)
    await stream.finish(Reply(text=FULL))
    msg = only_post(fake_slack, key.channel)
    assert msg["blocks"][0]["text"]["text"].strip() == FULL.strip()
    assert not fake_slack.calls_to("chat.startStream")
    [post] = fake_slack.calls_to("chat.postMessage")  # once the reply took a second: the text so far
    assert FULL.startswith(post.params["text"]) and post.params["text"] != FULL
    assert fake_slack.calls_to("chat.update")  # then updated, finally with the full text
    if key is DM_TOP:
        assert not fake_slack.statuses  # a status needs a thread


async def test_a_rate_limited_start_falls_back_at_once_and_posts_once(platform, fake_slack):
    fake_slack.start_stream_429 = True
    stream = await platform.open_stream(THREAD, "wf#run#1", ALICE)
    await stream_chunks(stream, pause=0.06)
    await stream.finish(Reply(text=FULL))
    msg = only_post(fake_slack)
    assert msg["blocks"][0]["text"]["text"].strip() == FULL.strip()
    assert len(fake_slack.calls_to("chat.startStream")) == 1  # no waiting out Retry-After: 30
    assert len(fake_slack.calls_to("chat.postMessage")) == 1
    assert msg["metadata"]["event_payload"]["key"] == "wf#run#1#0"


async def test_an_expired_stream_is_finished_with_an_update(platform, fake_slack):
    fake_slack.stream_idle_expiry = 0.3
    stream = await platform.open_stream(THREAD, "wf#run#1", ALICE)
    await stream_chunks(stream, CHUNKS[:5])
    await asyncio.sleep(0.6)  # a slow tool: the stream expires
    await stream_chunks(stream, CHUNKS[5:])
    await stream.finish(Reply(text=FULL))
    msg = only_post(fake_slack)
    assert msg["blocks"][0]["text"]["text"].strip() == FULL.strip() and msg.get("expired")
    assert fake_slack.calls_to("chat.update")
    assert not fake_slack.calls_to("chat.postMessage")


async def test_a_retried_turn_replaces_the_text_of_its_own_stream(platform, fake_slack):
    first = await platform.open_stream(THREAD, "wf#run#1", ALICE)
    await stream_chunks(first, CHUNKS[:10])
    await asyncio.sleep(0.4)  # the worker dies here: the stream stays open, never finished
    assert only_post(fake_slack)["streaming"]

    again = await platform.open_stream(THREAD, "wf#run#1", ALICE)  # the retried activity, same key
    await stream_chunks(again)
    ref = await again.finish(Reply(text=FULL))
    msg = only_post(fake_slack)
    assert ref.message_id == msg["ts"] and not msg["streaming"]
    assert msg["blocks"][0]["text"]["text"].strip() == FULL.strip()  # from the beginning, not appended twice
    assert len(fake_slack.calls_to("chat.startStream")) == 1
    assert not fake_slack.calls_to("chat.postMessage")


async def test_a_retried_turn_after_the_fallback_post_updates_that_post(platform, fake_slack):
    fake_slack.start_stream_429 = True
    first = await platform.open_stream(THREAD, "wf#run#1", ALICE)
    await stream_chunks(first, CHUNKS[:10])
    again = await platform.open_stream(THREAD, "wf#run#1", ALICE)
    await stream_chunks(again)
    await again.finish(Reply(text=FULL))
    assert only_post(fake_slack)["blocks"][0]["text"]["text"].strip() == FULL.strip()
    assert len(fake_slack.calls_to("chat.postMessage")) == 1


async def test_a_finished_reply_is_not_posted_again_by_a_retry(platform, fake_slack):
    stream = await platform.open_stream(THREAD, "wf#run#1", ALICE)
    await stream_chunks(stream)
    first = await stream.finish(Reply(text=FULL))
    again = await platform.open_stream(THREAD, "wf#run#1", ALICE)
    await stream_chunks(again)
    assert (await again.finish(Reply(text=FULL))).message_id == first.message_id
    assert only_post(fake_slack)["blocks"][0]["text"]["text"].strip() == FULL.strip()


async def test_a_quick_reply_where_slack_cannot_stream_is_posted_once_whole(platform, fake_slack):
    stream = await platform.open_stream(DM_TOP, "wf#run#1", ALICE)
    await stream_chunks(stream, CHUNKS[:5], pause=0.01)
    await stream.finish(Reply(text="".join(CHUNKS[:5])))
    assert only_post(fake_slack, "D1")["text"] == "".join(CHUNKS[:5])
    assert not fake_slack.calls_to("chat.update")


async def test_a_reply_that_never_streamed_is_an_ordinary_post(platform, fake_slack):
    stream = await platform.open_stream(THREAD, "wf#run#1", ALICE)
    buttons = ButtonsBlock(buttons=[Button(label="Status", action_id="session.status", workflow_id="w")])
    await stream.finish(Reply(text="Started.", blocks=[TextBlock(text="Started."), buttons]))
    msg = only_post(fake_slack)
    assert [b["type"] for b in msg["blocks"]] == ["section", "actions"]  # its own buttons, no feedback
    assert not fake_slack.calls_to("chat.startStream")


async def test_steps_are_task_updates_in_a_stream_and_a_checklist_in_the_fallback(platform, fake_slack):
    stream = await platform.open_stream(THREAD, "wf#run#1", ALICE)
    await stream.append("Opening an incident. ")
    await stream.step("channel", "Channel created", "complete")
    await stream.step("card", "Card posted", "in_progress")
    await asyncio.sleep(0.4)
    await stream.step("card", "Card posted", "complete")
    await stream.finish(Reply(text="Opening an incident. "))
    msg = only_post(fake_slack)
    assert msg["tasks"] == {
        "channel": {"title": "Channel created", "status": "complete"},
        "card": {"title": "Card posted", "status": "complete"},
    }

    fake_slack.start_stream_429 = True
    other = await platform.open_stream(THREAD, "wf#run#2", ALICE)
    await other.append("Opening another. ")
    await other.step("channel", "Channel created", "complete")
    await other.finish(Reply(text="Opening another. "))
    fallback = fake_slack.posts("C1", streaming=True)[-1]
    checklist = [b for b in fallback["blocks"] if b["type"] == "context"]
    assert checklist and "✓ Channel created" in checklist[0]["elements"][0]["text"]
    with pytest.raises(ValueError, match="step state must be one of"):
        await other.step("x", "X", "done")  # type: ignore[arg-type]


async def test_stop_keeps_the_text_so_far_and_adds_the_note(platform, fake_slack):
    stream = await platform.open_stream(THREAD, "wf#run#1", ALICE)
    await stream_chunks(stream, CHUNKS[:8])
    await stream.stop("_(stopped by Alice)_")
    msg = only_post(fake_slack)
    assert msg["text"] == "".join(CHUNKS[:8]) + "\n\n_(stopped by Alice)_" and not msg["streaming"]
    assert not [b for b in msg["blocks"] if b["type"] == "context_actions"]  # no feedback on a stopped answer


async def test_stop_after_slack_ended_the_stream_updates_the_message(platform, fake_slack):
    stream = await platform.open_stream(THREAD, "wf#run#1", ALICE)
    await stream_chunks(stream, CHUNKS[:8])
    await asyncio.sleep(0.4)
    assert fake_slack.stop_streams("C1", THREAD.thread)  # the user's Stop: Slack ends the stream itself
    await stream.stop("_(stopped)_")
    msg = only_post(fake_slack)
    assert msg["blocks"][0]["text"]["text"].startswith("".join(CHUNKS[:8]).strip())
    assert msg["text"].endswith("_(stopped)_")


async def test_a_turn_stopped_between_two_attempts_keeps_the_text_its_message_shows(platform, fake_slack):
    first = await platform.open_stream(THREAD, "wf#run#1", ALICE)
    await stream_chunks(first, CHUNKS[:8])
    await asyncio.sleep(0.4)  # the worker dies here: the stream stays open; Stop comes before the retry
    shown = only_post(fake_slack)["text"]
    assert shown and shown.startswith("word0 ")

    again = await platform.open_stream(THREAD, "wf#run#1", ALICE)  # finish_stopped_turn, the same key
    await again.stop("_(stopped)_")
    msg = only_post(fake_slack)
    assert msg["text"] == f"{shown}\n\n_(stopped)_" and not msg["streaming"]
    assert len(fake_slack.calls_to("chat.startStream")) == 1 and not fake_slack.calls_to("chat.postMessage")


async def test_agent_sessions_follow_the_turn(agent_platform, fake_slack):
    stream = await agent_platform.open_stream(THREAD, "wf#run#1", ALICE)
    assert fake_slack.agent_sessions[("C1", THREAD.thread)] == ["processing"]
    await stream_chunks(stream, CHUNKS[:3])
    await stream.finish(Reply(text="".join(CHUNKS[:3])))
    assert fake_slack.agent_sessions[("C1", THREAD.thread)] == ["processing", "active"]  # through chat.stopStream
    fake_slack.start_stream_429 = True
    other = await agent_platform.open_stream(THREAD, "wf#run#2", ALICE)
    await other.append("x")
    await other.finish(Reply(text="x"))
    await agent_platform.set_agent_status(THREAD, "closed")
    assert fake_slack.agent_sessions[("C1", THREAD.thread)] == [
        "processing",
        "active",
        "processing",
        "active",
        "closed",
    ]
    with pytest.raises(ValueError, match="agent session status must be one of"):
        await agent_platform.set_agent_status(THREAD, "idle")


async def test_without_agent_mode_no_agent_session_is_touched(platform, fake_slack):
    stream = await platform.open_stream(THREAD, "wf#run#1", ALICE)
    await stream.append("hi")
    await stream.finish(Reply(text="hi"))
    await platform.set_agent_status(THREAD, "closed")
    assert not fake_slack.agent_sessions and not fake_slack.calls_to("agents.sessions.setStatus")
    assert "session_status" not in fake_slack.calls_to("chat.stopStream")[0].params


async def test_a_reply_the_workflow_delivers_after_a_refused_stream_takes_over_the_streamed_message(
    platform, fake_slack
):
    """The turn's stream failed (Slack down mid-turn): the workflow posts, then updates, under the stream's key."""
    stream = await platform.open_stream(THREAD, "wf#run#1", ALICE)
    await stream_chunks(stream, CHUNKS[:5])
    ref = await platform.post(THREAD, Reply(text=FULL), idempotency_key="wf#run#1")
    await platform.update(ref, Reply(text=FULL))
    msg = only_post(fake_slack)
    assert ref.message_id == msg["ts"] and not msg["streaming"]
    assert msg["blocks"][0]["text"]["text"].strip() == FULL.strip()
    assert not fake_slack.calls_to("chat.postMessage")


async def test_a_final_text_that_differs_only_by_whitespace_is_finished_in_the_stream(platform, fake_slack):
    stream = await platform.open_stream(THREAD, "wf#run#1", ALICE)
    await stream.append("  hello there ")
    await stream.finish(Reply(text="hello there"))  # the turn strips the model's text
    msg = only_post(fake_slack)
    assert msg["text"] == "  hello there " and not msg["streaming"]
    assert not fake_slack.calls_to("chat.update")


async def test_a_stop_button_shows_while_the_answer_streams_and_goes_with_the_final_message(fake_slack, tmp_path):
    platform, store = await _platform(fake_slack, tmp_path, stop_button=True)
    try:
        stream = await platform.open_stream(THREAD, "wf#run#1", ALICE)
        await stream_chunks(stream, CHUNKS[:5])
        [button] = [el for b in only_post(fake_slack)["blocks"] if b["type"] == "actions" for el in b["elements"]]
        assert button["text"]["text"] == "Stop"
        assert decode_button_value(button["value"]) == (THREAD.session_id(), "session.stop", "")
        await stream_chunks(stream, CHUNKS[5:])
        await stream.finish(Reply(text=FULL))
    finally:
        await platform.clients.close()  # the Slack connection pool
        await store.close()
    msg = only_post(fake_slack)
    assert not msg["streaming"] and msg["text"].strip() == FULL.strip()
    assert not [b for b in msg["blocks"] if b["type"] == "actions"]  # the final message has no Stop button
    assert [b["type"] for b in msg["blocks"] if b["type"] == "context_actions"] == ["context_actions"]
    assert len(fake_slack.calls_to("chat.startStream")) == 1 and not fake_slack.calls_to("chat.postMessage")


async def test_an_agent_app_gets_no_stop_button_of_ours(fake_slack, tmp_path):
    platform, store = await _platform(fake_slack, tmp_path, agent=True, stop_button=True)
    try:
        stream = await platform.open_stream(THREAD, "wf#run#1", ALICE)
        await stream_chunks(stream)
        await stream.finish(Reply(text=FULL))
    finally:
        await platform.clients.close()  # the Slack connection pool
        await store.close()
    [start] = fake_slack.calls_to("chat.startStream")
    assert not [c for c in start.params["chunks"] if c["type"] == "blocks"]  # Slack's own Stop serves agent apps
