"""The inbound queue's store: dedupe, order per session, leases two gateways share.

Every test runs on both stores: the SQLite file (one host) and PostgreSQL (many hosts).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from adapters.storage.postgres import PostgresDatabase
from bots.inbound_queue import Enqueued, InboundQueue, SQLiteInboundQueue
from bots.inbound_queue_postgres import PostgresInboundQueue
from tests.support.postgres import PostgresServer
from workflows.contracts import Actor, ChatMessage, ConversationKey

#: A gateway process's queue: ``Gateways(n)`` opens n of them on one shared store.
Gateways = Callable[[int], contextlib.AbstractAsyncContextManager[list[InboundQueue]]]


@pytest.fixture(params=["sqlite", "postgresql"])
def gateways(request: pytest.FixtureRequest, tmp_path: Path) -> Gateways:
    @contextlib.asynccontextmanager
    async def open_gateways(n: int) -> AsyncIterator[list[InboundQueue]]:
        databases: list[PostgresDatabase] = []
        queues: list[InboundQueue] = []
        if request.param == "sqlite":
            queues = [SQLiteInboundQueue(tmp_path / "q.sqlite3") for _ in range(n)]
        else:
            server: PostgresServer = request.getfixturevalue("postgres_server")
            url = server.create_database()
            databases = [PostgresDatabase(url) for _ in range(n)]  # one pool per gateway process
            queues = [PostgresInboundQueue(db) for db in databases]
        try:
            for q in queues:
                await q.open()
            yield queues
        finally:
            for q in queues:
                await q.close()
            for db in databases:
                await db.close()

    return open_gateways


def _msg(thread: str, n: int) -> ChatMessage:
    return ChatMessage(
        key=ConversationKey(platform="webchat", channel="general", thread=thread),
        actor=Actor(id="al", name="al"),
        text=f"text {n}",
        message_id=f"{thread}-{n}",
    )


async def test_dedupe_and_order_per_session(gateways: Gateways):
    async with gateways(2) as (a, b):
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


async def test_a_dead_gateways_lease_runs_out_and_another_takes_over(gateways: Gateways):
    async with gateways(2) as (a, b):
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


async def test_catching_up_is_said_once_per_outage(gateways: Gateways):
    async with gateways(1) as (q,):
        _, seq, _ = await q.enqueue(_msg("t1", 1), "A", 30)
        assert await q.first_notice("webchat:general:t1") is True
        assert await q.first_notice("webchat:general:t1") is False
        await q.done(seq)  # the thread's queue is empty: that outage is over
        assert await q.first_notice("webchat:general:t1") is True


async def test_gateways_draining_at_once_never_take_the_same_entry(gateways: Gateways):
    """Four gateways claim concurrently: each session's head goes to exactly one of them."""
    async with gateways(4) as queues:
        for n in range(40):
            _, seq, _ = await queues[0].enqueue(_msg(f"t{n}", 1), "seed", 30)
            await queues[0].retry_later(seq, "seed", 0, "Temporal unreachable")  # due, unleased
            await queues[0].enqueue(_msg(f"t{n}", 2), "seed", 30)  # behind: never handed out yet
        claims = await asyncio.gather(*(q.claim(f"G{i}", 40, 30) for i, q in enumerate(queues)))
        taken = [e.message.message_id for entries in claims for e in entries]
        assert sorted(taken) == sorted(f"t{n}-1" for n in range(40))  # each head once, no second message


async def test_two_gateways_enqueueing_into_one_conversation_at_once_lease_only_one_head(gateways: Gateways):
    # The SQLite store checks for older messages and inserts in one statement: the check and the
    # insert must stay one atomic step between processes, or both would deliver at once, out of order.
    async with gateways(2) as (a, b):
        for n in range(20):
            thread = f"race{n}"
            results = await asyncio.gather(a.enqueue(_msg(thread, 1), "A", 30), b.enqueue(_msg(thread, 2), "B", 30))
            assert sorted(r[0].value for r in results) == ["behind", "head"]


async def test_a_message_behind_a_failing_one_hears_how_often_it_failed(gateways: Gateways):
    async with gateways(1) as (q,):
        _, head, _ = await q.enqueue(_msg("t1", 1), "A", 30)
        await q.retry_later(head, "A", 60, "Temporal unreachable")
        await q.claim("A", 10, 30)  # not due yet: stays with one failed attempt
        state, _, head_attempts = await q.enqueue(_msg("t1", 2), "A", 30)
        assert (state, head_attempts) == (Enqueued.BEHIND, 1)
