"""The inbound queue's store: dedupe, order per session, leases two gateways share."""

from __future__ import annotations

import asyncio
from pathlib import Path

from bots.inbound_queue import Enqueued, SQLiteInboundQueue
from workflows.contracts import Actor, ChatMessage, ConversationKey


def _msg(thread: str, n: int) -> ChatMessage:
    return ChatMessage(
        key=ConversationKey(platform="webchat", channel="general", thread=thread),
        actor=Actor(id="al", name="al"), text=f"text {n}", message_id=f"{thread}-{n}",
    )


async def _two_gateways(path: Path) -> tuple[SQLiteInboundQueue, SQLiteInboundQueue]:
    a, b = SQLiteInboundQueue(path), SQLiteInboundQueue(path)
    await a.open()
    await b.open()
    return a, b


async def test_dedupe_and_order_per_session(tmp_path: Path):
    a, b = await _two_gateways(tmp_path / "q.sqlite3")
    try:
        assert (await a.enqueue(_msg("t1", 1), "A", 30))[0] is Enqueued.HEAD
        assert (await a.enqueue(_msg("t1", 2), "A", 30))[0] is Enqueued.BEHIND
        assert (await b.enqueue(_msg("t1", 2), "B", 30))[0] is Enqueued.ALREADY_QUEUED  # a platform retry
        first = await a.enqueue(_msg("t2", 1), "A", 30)
        assert first[0] is Enqueued.HEAD
        assert (await a.stats()).depth == 3
        # Heads are leased to A (inline delivery): B gets nothing of those sessions.
        assert await b.claim("B", 10, 30) == []
        await a.retry_later(first[1], "A", 0, "Temporal unreachable")
        [t2] = await b.claim("B", 10, 30)
        assert t2.message.message_id == "t2-1" and t2.attempts == 1
        # Only the oldest of a session is ever handed out, so messages keep their order.
        seqs = {}
        for entry in await a.claim("A", 10, 0.01):  # nothing: t1-1 is still A's own inline lease
            seqs[entry.message.message_id] = entry.seq
        assert seqs == {}
    finally:
        await a.close()
        await b.close()


async def test_a_dead_gateways_lease_runs_out_and_another_takes_over(tmp_path: Path):
    a, b = await _two_gateways(tmp_path / "q.sqlite3")
    try:
        head = await a.enqueue(_msg("t1", 1), "A", 0.3)  # A then "dies" with the lease
        await a.enqueue(_msg("t1", 2), "A", 0.3)
        assert await b.claim("B", 10, 30) == []
        await asyncio.sleep(0.4)
        [entry] = await b.claim("B", 10, 30)
        assert entry.seq == head[1]
        await b.done(entry.seq)
        [second] = await b.claim("B", 10, 30)
        assert second.message.message_id == "t1-2"
        await a.retry_later(second.seq, "A", 0, "stale owner")  # not A's any more: no effect
        assert await a.claim("A", 10, 30) == []
    finally:
        await a.close()
        await b.close()


async def test_catching_up_is_said_once_per_outage(tmp_path: Path):
    q = SQLiteInboundQueue(tmp_path / "q.sqlite3")
    await q.open()
    try:
        _, seq, _ = await q.enqueue(_msg("t1", 1), "A", 30)
        assert await q.first_notice("webchat:general:t1") is True
        assert await q.first_notice("webchat:general:t1") is False
        await q.done(seq)  # the thread's queue is empty: that outage is over
        assert await q.first_notice("webchat:general:t1") is True
    finally:
        await q.close()
