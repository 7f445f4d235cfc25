"""Teams messages through the real gateway: replies, sessions, dedupe, members."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path

from tests.support.stack import running_stack
from tests.teams.activities import TENANT, activity, mention
from tests.teams.conftest import send


async def sessions_show(client, session_id: str, cwd: Path) -> dict:
    """`threadwork sessions show ID` as a real subprocess (async: the worker shares this loop)."""
    env = {**os.environ, "TEMPORAL_ADDRESS": client.service_client.config.target_host}
    proc = await asyncio.create_subprocess_exec(
        str(Path(sys.executable).with_name("threadwork")),
        "sessions",
        "show",
        session_id,
        cwd=cwd,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await proc.communicate()
    assert proc.returncode == 0, err.decode()
    return json.loads(out)


async def test_message_gets_reply_and_second_message_reaches_same_session(teams, connector, tmp_path):
    conv = "a:personal-chat-1"
    first = activity(connector.url, conv, text="hello bot")
    resp = await send(teams, first)
    assert resp.status_code == 201, resp.text
    [reply] = await connector.wait_for(lambda: connector.posts(conv), 1)
    assert "message 1" in reply.text
    assert reply.activity_id == first["id"]  # a reply to the user's message, in its conversation
    assert reply.body["conversation"]["id"] == conv

    second = activity(
        connector.url, conv, text="<at>threadwork</at> how are you", entities=[mention("<at>threadwork</at>")]
    )
    assert (await send(teams, second)).status_code == 201
    replies = await connector.wait_for(lambda: connector.posts(conv), 2)
    assert "message 2" in replies[1].text

    session_id = f"teams:{TENANT}:{conv}"
    state = await sessions_show(teams.client, session_id, tmp_path)
    assert state["message_count"] == 2
    assert state["platform"] == "teams"
    assert [h["text"] for h in state["history"] if h["role"] == "user"] == ["hello bot", "how are you"]
    # The member directory (GET members) named the user; the reference is kept as data.
    assert state["participants"]["29:alice"]["name"] == "Alice Example"
    assert state["participants"]["29:alice"]["is_guest"] is False
    assert state["reply_context"]["serviceUrl"] == connector.url
    assert state["reply_context"]["conversation"]["id"] == conv


async def test_redelivered_activity_is_answered_once(teams, connector):
    conv = "a:personal-chat-2"
    body = activity(connector.url, conv, text="deliver me twice")
    assert (await send(teams, body)).status_code == 201
    assert (await send(teams, body)).status_code == 201  # Bot Framework retried the same activity
    await connector.wait_for(lambda: connector.posts(conv), 1)
    await asyncio.sleep(0.5)
    assert len(connector.posts(conv)) == 1
    assert (await teams.state(f"teams:{TENANT}:{conv}"))["message_count"] == 1


async def test_channel_thread_is_its_own_session(teams, connector):
    thread = "19:general@thread.tacv2;messageid=1700000000000"
    body = activity(
        connector.url,
        thread,
        text="<at>threadwork</at> status",
        conversation_type="channel",
        entities=[mention("<at>threadwork</at>")],
    )
    assert (await send(teams, body)).status_code == 201
    # A channel thread gets a placeholder that becomes the reply (Teams streams only in 1:1 chats).
    [reply] = await connector.wait_for(
        lambda: [c for c in connector.latest(thread) if "This conversation: 1 messages" in c.searchable()], 1
    )  # the thread session answered (ids stay out of chat)
    assert len(connector.posts(thread)) == 1
    assert reply.card is not None and reply.card["version"] == "1.5"


async def test_guest_member_is_limited(client, tmp_path, connector):
    async with running_stack(
        client, tmp_path, teams_enabled=True, teams_service_url=connector.url, guest_message_limit=1
    ) as stack:
        conv = "a:guest-chat"
        for text in ("hi", "again"):
            body = activity(connector.url, conv, text=text, user="29:gus", user_name="Gus")
            assert (await send(stack, body)).status_code == 201
            await asyncio.sleep(0.2)
        replies = await connector.wait_for(lambda: connector.posts(conv), 2)
        assert "guest limit" in replies[1].text
        state = await stack.state(f"teams:{TENANT}:{conv}")
        assert state["participants"]["29:gus"]["is_guest"] is True
        assert state["message_count"] == 1


async def test_malformed_requests_get_clear_errors(teams, connector):
    resp = await teams.http.post("/api/messages", content=b"{not json", headers={"Content-Type": "application/json"})
    assert resp.status_code == 400 and "JSON" in resp.json()["error"]
    resp = await teams.http.post("/api/messages", content=b"hello", headers={"Content-Type": "text/plain"})
    assert resp.status_code == 415
    body = activity(connector.url, "a:x", text="hi")
    del body["conversation"]
    resp = await send(teams, body)
    assert resp.status_code == 400 and "conversation" in resp.json()["error"]
    resp = await send(teams, [body])
    assert resp.status_code == 400
