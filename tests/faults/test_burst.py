"""Fault case 6: a burst of new web chat conversations at once, no client resends.

Promise: every message is answered exactly once; the burst waits in the inbound queue
(bounded concurrency toward Temporal) instead of becoming 503s. Production shape:
`threadwork gateway` and `threadwork worker` as separate processes on a dev server with
a file database. The figure is the time from the first send until the last answer, and
the slowest 202. 2,000 conversations at full scale.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
from pathlib import Path

import httpx
import pytest

from adapters.webchat.store_sqlite import SqliteWebChatStore
from tests.faults.support import Deployment, answer_numbers, figure, scaled, until

ANSWER_DEADLINE = scaled(240.0, 1500.0)
#: What one request may take for its 202 before the test calls it a failure (the gateway's path is bounded).
ACCEPT_BOUND = scaled(120.0, 600.0)
#: 256 connections in all.
CLIENTS = 16
PER_CLIENT = 16
pytestmark = pytest.mark.timeout(scaled(420, 2400))


async def test_burst_of_new_conversations_is_answered_once_each(tmp_path: Path):
    conversations = scaled(150, 2000)
    deployment = Deployment(tmp_path)
    store = SqliteWebChatStore(tmp_path / "data" / "webchat.sqlite3")  # read beside the gateway, as a second reader
    try:
        await deployment.temporal.start()
        await deployment.start_worker()
        # All requests are sent at once through at most 256 connections (as a load balancer would) rather
        # than 2,000 simultaneous connects against one listen backlog: 16 clients of 16 connections each,
        # the rest waiting here. One client with 256 connections and 2,000 queued requests spent nearly all
        # of the test process's time in httpx's pool, which re-scans every waiting request against every
        # connection whenever one frees up (py-spy): the client, not the gateway, was then what was slow.
        limits = httpx.Limits(max_connections=PER_CLIENT, max_keepalive_connections=PER_CLIENT)
        clients = [
            httpx.AsyncClient(base_url=deployment.base_url, timeout=ACCEPT_BOUND, limits=limits) for _ in range(CLIENTS)
        ]
        lines = [asyncio.Semaphore(PER_CLIENT) for _ in range(CLIENTS)]
        async with contextlib.AsyncExitStack() as open_clients:
            for client in clients:
                await open_clients.enter_async_context(client)
            http = clients[0]
            await deployment.start_gateway(http)
            await store.open()
            slowest = 0.0
            started = time.monotonic()

            async def send(i: int) -> dict:
                nonlocal slowest
                async with lines[i % CLIENTS]:
                    sent_at = time.monotonic()
                    resp = await clients[i % CLIENTS].post(
                        "/webchat/api/messages",
                        json={"channel": "general", "thread": None, "user": f"u{i}", "text": f"burst {i}"},
                    )
                    slowest = max(slowest, time.monotonic() - sent_at)
                assert resp.status_code == 202, resp.text  # queued or taken, never 503
                return resp.json()

            sent = await asyncio.gather(*(send(i) for i in range(conversations)))
            all_accepted = time.monotonic() - started
            queued = sum(1 for s in sent if s["queued"])
            threads = {s["thread"] for s in sent}
            assert len(threads) == conversations

            async def all_answered() -> bool:
                answered = {
                    m["thread"] for m in await store.messages("general") if m["is_bot"] and "Got it" in m["text"]
                }
                return threads <= answered

            await until("every conversation answered", all_answered, ANSWER_DEADLINE, *deployment.processes())
            last_answer = time.monotonic() - started
            await asyncio.sleep(2)
            by_thread: dict[str, list[dict]] = {t: [] for t in threads}
            for m in await store.messages("general"):
                by_thread[m["thread"]].append(m)
            twice = [t for t, shown in by_thread.items() if answer_numbers(shown) != [1]]
            assert twice == [], [by_thread[t] for t in twice[:3]]
            metrics = (await http.get("/metrics")).text
            depth = re.search(r"^threadwork_inbound_queue_depth (\S+)$", metrics, re.M)
            assert depth is not None and float(depth.group(1)) == 0.0
            figure(
                "burst",
                f"{conversations} new conversations at once ({queued} queued first): all answered once; "
                f"every 202 within {all_accepted:.1f}s (the slowest request {slowest:.1f}s), "
                f"last answer {last_answer:.1f}s after the first send",
            )
    finally:
        await store.close()
        await deployment.close()
