"""Web chat API edges found while building the page: thread ids, resent message ids, the event stream."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import httpx
from aiohttp import web

from adapters.webchat.routes import WebChatRoutes
from adapters.webchat.store_sqlite import SqliteWebChatStore
from bots.dispatch import Dispatcher
from tests.support.stack import free_port
from workflows.contracts import SessionConfig


async def test_thread_from_another_channel_is_refused(stack):
    elsewhere = await stack.store.add_message(channel="incidents", thread=None, user="bo", text="over here")
    resp = await stack.http.post(
        "/webchat/api/messages", json={"channel": "general", "thread": elsewhere["id"], "user": "al", "text": "hi"}
    )
    assert resp.status_code == 400
    assert "does not exist in channel 'general'" in resp.json()["error"]
    assert await stack.store.messages("general") == []


async def test_reply_to_a_reply_lands_in_its_thread(stack):
    first = await stack.say("root message")
    reply = await stack.say("a reply", thread=first["thread"])
    nested = await stack.say("reply to the reply", thread=reply["message_id"])
    assert nested["thread"] == first["thread"]
    assert nested["session_id"] == first["session_id"]
    texts = [m["text"] for m in await stack.store.messages("general", first["thread"]) if not m["is_bot"]]
    assert texts == ["root message", "a reply", "reply to the reply"]


async def test_message_id_reused_for_other_text_is_refused(stack):
    first = await stack.say("the original", message_id="web-fixed-1")
    again = await stack.say("the original", message_id="web-fixed-1", thread=first["thread"])
    assert again["thread"] == first["thread"]
    resp = await (await stack.user("alice")).post(
        "/webchat/api/messages",
        json={
            "channel": "general",
            "thread": None,
            "user": "alice",
            "text": "something else",
            "message_id": "web-fixed-1",
        },
    )
    assert resp.status_code == 400
    assert "already used for a different message" in resp.json()["error"]
    users = [m["text"] for m in await stack.store.messages("general", first["thread"]) if not m["is_bot"]]
    assert users == ["the original"]


async def _read_events(lines, count: int) -> list[dict]:
    events, current = [], {}
    async for line in lines:
        if line.startswith("id: "):
            current["id"] = int(line[4:])
        elif line.startswith("data: "):
            current["data"] = json.loads(line[6:])
        elif line == "" and "data" in current:
            events.append(current)
            current = {}
            if len(events) == count:
                return events
    raise AssertionError(f"stream ended after {events}")


async def test_stream_replays_after_last_event_id_and_ends_on_shutdown(client, tmp_path: Path):
    """An open stream must not hold the gateway's shutdown for aiohttp's whole 60 s timeout."""
    store = SqliteWebChatStore(tmp_path / "webchat.sqlite3")
    await store.open()
    app = web.Application()
    WebChatRoutes(store, Dispatcher(client, "tq-unused", SessionConfig())).add_to(app)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    cleanup = None
    try:
        root = await store.add_message(channel="general", thread=None, user="al", text="first")
        await store.update_message(root["id"], "first, edited", [])
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) as http:
            async with http.stream("GET", "/webchat/api/stream", headers={"Last-Event-ID": "0"}) as resp:
                assert resp.headers["content-type"] == "text/event-stream"
                lines = resp.aiter_lines()
                replayed = await asyncio.wait_for(_read_events(lines, 2), 20)
                assert [(e["data"]["kind"], e["data"]["message"]["id"]) for e in replayed] == [
                    ("new", root["id"]),
                    ("update", root["id"]),
                ]
                assert replayed[1]["data"]["message"]["text"] == "first, edited"

                live = await store.add_message(channel="general", thread=root["id"], user="bo", text="live")
                (event,) = await asyncio.wait_for(_read_events(lines, 1), 20)
                assert event["data"] == {"kind": "new", "message": live}
                assert event["id"] > replayed[1]["id"]

                cleanup = asyncio.create_task(runner.cleanup())
                rest = await asyncio.wait_for(_drain(lines), 20)
                assert "data:" not in rest
                await asyncio.wait_for(cleanup, 20)
    finally:
        if cleanup is None:
            await runner.cleanup()
        await store.close()


async def _drain(lines) -> str:
    return "\n".join([line async for line in lines])


async def test_bad_last_event_id_is_a_clear_400(stack):
    resp = await stack.http.get("/webchat/api/stream", headers={"Last-Event-ID": "soon"})
    assert resp.status_code == 400
    assert "Last-Event-ID must be a number" in resp.json()["error"]
