"""Nothing Slack did not sign gets in; bots (ourselves included) and edits never get a reply."""

from __future__ import annotations

import asyncio
import json
import time

from temporalio.service import RPCError, RPCStatusCode

from tests.slack.fake_slack import BOT_ID, BOT_USER
from tests.slack.support import new_ts


async def _no_workflow(stack, workflow_id: str) -> bool:
    try:
        await stack.client.get_workflow_handle(workflow_id).describe()
    except RPCError as err:
        return err.status == RPCStatusCode.NOT_FOUND
    return False


async def test_forged_and_stale_requests_are_refused_and_start_nothing(slack):
    stack, sim = slack
    forged = sim.message("C1", "UALICE", f"<@{BOT_USER}> forged", kind="app_mention")
    resp = await sim.event(forged, secret="not-the-signing-secret")
    assert resp.status_code == 401

    stale = sim.message("C1", "UALICE", f"<@{BOT_USER}> stale", kind="app_mention")
    resp = await sim.event(stale, timestamp=int(time.time()) - 6 * 60)
    assert resp.status_code == 401

    unsigned = await stack.http.post(
        "/slack/events", content=sim.envelope(forged).encode(), headers={"Content-Type": "application/json"}
    )
    assert unsigned.status_code == 401

    # A correctly signed body that was altered on the way.
    body = sim.envelope(forged)
    from tests.slack.support import signed_headers

    headers = signed_headers(body, content_type="application/json")
    tampered = body.replace("forged", "tampered")
    assert (await stack.http.post("/slack/events", content=tampered.encode(), headers=headers)).status_code == 401

    await asyncio.sleep(0.5)
    assert sim.fake.posts() == []
    for event in (forged, stale):
        assert await _no_workflow(stack, f"slack:T1:C1:{event['ts']}")


async def test_url_verification_is_answered(slack):
    _stack, sim = slack
    body = json.dumps({"token": "legacy", "challenge": "c-123", "type": "url_verification"})
    resp = await sim.send(body, "application/json")
    assert resp.status_code == 200
    assert resp.json() == {"challenge": "c-123"}


async def test_own_and_other_bots_messages_and_edits_are_ignored(slack):
    stack, sim = slack
    sim.fake.add_user("UOTHERBOT", "Deploy Bot", bot=True)
    root = await sim.mention("C1", "UALICE", "start a session")
    ts = root["ts"]
    await sim.fake.wait_for(lambda: sim.fake.posts("C1", ts), what="the first reply")

    ignored = [
        # our own reply, as Slack echoes it back
        sim.message("C1", BOT_USER, "Got it (message 1...)", thread_ts=ts, bot_id=BOT_ID),
        # another app's bot message, and another bot user
        sim.message("C1", "UX", "deploy finished", thread_ts=ts, bot_id="BOTHER", subtype="bot_message"),
        sim.message("C1", "UOTHERBOT", "beep", thread_ts=ts),
        # a mention by another bot must not start a loop either
        sim.message("C1", "UOTHERBOT", f"<@{BOT_USER}> ping", kind="app_mention", bot_id="BOTHER"),
        # edits and deletions of Alice's messages
        {
            "type": "message",
            "subtype": "message_changed",
            "channel": "C1",
            "channel_type": "channel",
            "ts": new_ts(),
            "hidden": True,
            "message": {"type": "message", "user": "UALICE", "text": "start a session (edited)", "ts": ts},
            "previous_message": {"type": "message", "user": "UALICE", "text": "start a session", "ts": ts},
        },
        {
            "type": "message",
            "subtype": "message_deleted",
            "channel": "C1",
            "channel_type": "channel",
            "ts": new_ts(),
            "hidden": True,
            "deleted_ts": ts,
            "thread_ts": ts,
        },
    ]
    for event in ignored:
        assert (await sim.event(event)).status_code == 200
    await asyncio.sleep(1.0)
    assert len(sim.fake.posts()) == 1
    assert (await stack.state(f"slack:T1:C1:{ts}"))["message_count"] == 1

    # The session is still there for people.
    await sim.event(sim.message("C1", "UBOB", "a person again", thread_ts=ts))
    await sim.fake.wait_for(lambda: len(sim.fake.posts()) == 2, what="the reply to a person")
    assert (await stack.state(f"slack:T1:C1:{ts}"))["message_count"] == 2


async def test_bad_bodies_get_a_clear_400_and_unsigned_ones_401(slack):
    from tests.slack.support import signed_headers

    stack, sim = slack
    cases = [
        ("not json", "application/json", 400, "body is not valid JSON"),
        ("payload=%7Bbroken", "application/x-www-form-urlencoded", 400, "payload is not valid JSON"),
        ("{}", "application/json", 400, "unhandled request"),
    ]
    for body, content_type, status, reason in cases:
        resp = await stack.http.post(
            "/slack/events", content=body.encode(), headers=signed_headers(body, content_type=content_type)
        )
        assert (resp.status_code, reason in resp.text) == (status, True), (body, resp.text)
        forged = signed_headers(body, content_type=content_type, secret="wrong")
        assert (await stack.http.post("/slack/events", content=body.encode(), headers=forged)).status_code == 401

    # An event type the app does not use is acknowledged (no Slack retries) and ignored.
    resp = await sim.event({"type": "channel_created", "channel": {"id": "C9", "name": "new"}})
    assert resp.status_code == 200
    assert sim.fake.posts() == []
