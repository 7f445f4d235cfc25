"""The Slack received-events journal on both stores: kept until done, replayed once due, dropped when poison."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from adapters.slack.received_journal import MAX_REPLAYS, ReceivedJournal, SqliteReceivedJournal
from adapters.slack.received_journal_postgres import PostgresReceivedJournal
from adapters.storage.postgres import PostgresDatabase
from tests.support.postgres import PostgresServer


@pytest.fixture(params=["sqlite", "postgresql"])
def journals(request: pytest.FixtureRequest, tmp_path: Path):
    @contextlib.asynccontextmanager
    async def open_journals(n: int) -> AsyncIterator[list[ReceivedJournal]]:
        databases: list[PostgresDatabase] = []
        if request.param == "sqlite":
            found: list[ReceivedJournal] = [SqliteReceivedJournal(tmp_path / "received.sqlite3") for _ in range(n)]
        else:
            server: PostgresServer = request.getfixturevalue("postgres_server")
            url = server.create_database()
            databases = [PostgresDatabase(url) for _ in range(n)]
            found = [PostgresReceivedJournal(db) for db in databases]
        try:
            for j in found:
                await j.open()
            yield found
        finally:
            for j in found:
                await j.close()
            for db in databases:
                await db.close()

    return open_journals


async def test_an_event_is_kept_until_done_and_replayed_by_one_gateway_when_due(journals):
    async with journals(2) as (a, b):
        await a.put("Ev1", '{"event_id": "Ev1"}', "A")
        await a.put("Ev1", '{"event_id": "Ev1", "retry": 1}', "A")  # Slack's retry: the first body stays
        await a.put("Ev2", '{"event_id": "Ev2"}', "A")
        await a.done("Ev2")  # its listener finished
        assert await b.take_due("B", 5.0, 10) == ([], [])  # Ev1 is fresh: its listener may still run
        await asyncio.sleep(0.3)
        replay_b, replay_a = await asyncio.gather(b.take_due("B", 0.2, 10), a.take_due("A", 0.2, 10))
        taken = replay_b[0] + replay_a[0]
        assert [(e.event_id, e.body, e.replays) for e in taken] == [("Ev1", '{"event_id": "Ev1"}', 1)]
        assert await a.take_due("A", 0.2, 10) == ([], [])  # re-owned just now: not due again yet


async def test_an_event_whose_listener_never_finishes_is_dropped_after_its_replays(journals):
    async with journals(1) as (j,):
        await j.put("EvPoison", "{}", "A")
        for n in range(1, MAX_REPLAYS + 1):
            replay, dropped = await j.take_due("A", -1, 10)
            assert [e.replays for e in replay] == [n] and dropped == []
        replay, dropped = await j.take_due("A", -1, 10)
        assert replay == [] and [e.event_id for e in dropped] == ["EvPoison"]
        assert await j.take_due("A", -1, 10) == ([], [])
