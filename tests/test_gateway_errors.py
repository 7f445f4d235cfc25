"""Bad input gets a 400 that says what is wrong and starts nothing; Temporal down gets a truthful answer."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest
from aiohttp import web
from temporalio.client import Client

from adapters.base import CATCHING_UP_TEXT
from bots.config import Settings
from bots.gateway import build_app
from bots.queued_dispatch import gateway_dispatcher
from bots.temporal import connect
from bots.wiring import build_platforms
from tests.support.stack import free_port

BAD_BODIES = [
    (b"{not json", "not valid JSON"),
    (b"[1, 2]", "must be a JSON object"),
    (b'{"channel": "general", "thread": null, "user": "al"}', "text is required"),
    (b'{"channel": "general", "thread": null, "text": "hi"}', "user is required"),
    (b'{"thread": null, "user": "al", "text": "hi"}', "channel is required"),
    (b'{"channel": "general", "thread": null, "user": "al", "text": "   "}', "text: text is empty"),
    (
        b'{"channel": "general", "thread": null, "user": "al", "text": "hi", "colour": "red"}',
        "colour is not a known field",
    ),
    (b'{"channel": "nope", "thread": null, "user": "al", "text": "hi"}', "channel 'nope' does not exist"),
]


async def _sessions(client: Client, task_queue: str) -> list[str]:
    return [wf.id async for wf in client.list_workflows(f"TaskQueue = '{task_queue}'")]


@pytest.mark.parametrize(("body", "reason"), BAD_BODIES)
async def test_bad_message_is_400_with_reason_and_starts_nothing(stack, body, reason):
    resp = await stack.http.post("/webchat/api/messages", content=body, headers={"Content-Type": "application/json"})
    assert resp.status_code == 400
    assert reason in resp.json()["error"]
    assert await stack.store.messages("general") == []
    assert await _sessions(stack.client, stack.settings.task_queue) == []


async def test_oversized_text_is_refused(stack):
    resp = await stack.http.post(
        "/webchat/api/messages", json={"channel": "general", "thread": None, "user": "al", "text": "x" * 40_001}
    )
    assert resp.status_code == 400
    assert "40001 characters; the limit is 40000" in resp.json()["error"]
    assert await stack.store.messages("general") == []
    ok = await stack.say("y" * 40_000)
    assert (await stack.wait_bot_messages(ok["thread"], 1))[0]["is_bot"]


async def test_bad_action_is_400(stack):
    resp = await stack.http.post("/webchat/api/actions", json={"channel": "general", "message_id": "x"})
    assert resp.status_code == 400
    assert "action_id is required" in resp.json()["error"] and "user is required" in resp.json()["error"]


async def test_health_and_metrics(stack):
    health = await stack.http.get("/healthz")
    assert health.status_code == 200 and health.json()["status"] == "ok"
    sent = await stack.say("count me")
    await stack.wait_bot_messages(sent["thread"], 1)
    metrics = (await stack.http.get("/metrics")).text
    assert 'threadwork_messages_total{outcome="accepted",platform="webchat"}' in metrics
    # The Temporal SDK's own metrics are on the same page.
    assert "temporal_request" in metrics


async def test_temporal_unreachable_queues_and_says_catching_up_once(tmp_path: Path):
    dead = f"127.0.0.1:{free_port()}"
    settings = Settings(data_dir=tmp_path, temporal_address=dead, queue_inline_timeout=1.0)
    client = await connect(dead, lazy=True)
    platforms = await build_platforms(settings)
    runner = web.AppRunner(build_app(client, gateway_dispatcher(client, settings), platforms))
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=60) as http:
            health = await http.get("/healthz")
            assert health.status_code == 503 and health.json()["status"] == "unavailable"
            first = await http.post(
                "/webchat/api/messages", json={"channel": "general", "thread": None, "user": "al", "text": "anyone?"}
            )
            assert first.status_code == 202, first.text
            assert first.json()["queued"] is True
            thread = first.json()["thread"]
            second = await http.post(
                "/webchat/api/messages", json={"channel": "general", "thread": thread, "user": "al", "text": "hello?"}
            )
            assert second.status_code == 202 and second.json()["queued"] is True
            messages = await platforms.webchat_store.messages("general", thread)
            # Nothing lost, and the truth said once for the thread, not once per message.
            assert [(m["is_bot"], m["text"]) for m in messages] == [
                (False, "anyone?"),
                (True, CATCHING_UP_TEXT),
                (False, "hello?"),
            ]
            metrics = (await http.get("/metrics")).text
            assert "threadwork_inbound_queue_depth 2.0" in metrics
            age = float(re.search(r"^threadwork_inbound_queue_oldest_age_seconds (\S+)$", metrics, re.M).group(1))
            assert age > 0
    finally:
        await runner.cleanup()
        await platforms.close()
