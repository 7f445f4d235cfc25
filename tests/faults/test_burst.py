"""Fault case 6: a burst of new web chat conversations at once, no client resends.

Promise: every message is answered exactly once; the burst waits in the inbound queue
(bounded concurrency toward Temporal) instead of becoming 503s. The figure is the
time from the first send until the last answer. 2,000 conversations at full scale.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import httpx
import pytest

from tests.faults.support import answer_numbers, figure, scaled
from tests.support.stack import running_stack

ANSWER_DEADLINE = scaled(240.0, 1500.0)
pytestmark = pytest.mark.timeout(scaled(300, 1800))


async def test_burst_of_new_conversations_is_answered_once_each(client, tmp_path: Path):
    conversations = scaled(150, 2000)
    async with running_stack(client, tmp_path, queue_concurrency=16) as stack:
        # All requests are sent at once; the client opens at most 256 connections (as a load balancer
        # would) rather than 2,000 simultaneous connects against one listen backlog.
        limits = httpx.Limits(max_connections=256, max_keepalive_connections=256)
        async with httpx.AsyncClient(base_url=stack.base_url, timeout=300, limits=limits) as http:
            started = time.monotonic()

            async def send(i: int) -> dict:
                resp = await http.post(
                    "/webchat/api/messages",
                    json={"channel": "general", "thread": None, "user": f"u{i}", "text": f"burst {i}"},
                )
                assert resp.status_code == 202, resp.text  # queued or taken, never 503
                return resp.json()

            sent = await asyncio.gather(*(send(i) for i in range(conversations)))
            queued = sum(1 for s in sent if s["queued"])
            threads = {s["thread"] for s in sent}
            assert len(threads) == conversations

            async def unanswered() -> set[str]:
                answered = {
                    m["thread"] for m in await stack.store.messages("general") if m["is_bot"] and "Got it" in m["text"]
                }
                return threads - answered

            deadline = time.monotonic() + ANSWER_DEADLINE
            while missing := await unanswered():
                assert time.monotonic() < deadline, f"{len(missing)} of {conversations} never answered"
                await asyncio.sleep(0.25)
            last_answer = time.monotonic() - started
            await asyncio.sleep(2)
            for thread in threads:
                assert answer_numbers(await stack.store.messages("general", thread)) == [1], thread
            metrics = (await http.get("/metrics")).text
            assert "threadwork_inbound_queue_depth 0.0" in metrics
            figure(
                "burst",
                f"{conversations} new conversations at once ({queued} queued first): all answered once, "
                f"last answer {last_answer:.1f}s after the first send",
            )
