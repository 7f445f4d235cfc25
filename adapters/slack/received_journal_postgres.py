"""The Slack received-events journal in PostgreSQL: a gateway on any host replays what a dead one left.

Same contract as ``SqliteReceivedJournal`` (adapters/slack/received_journal.py); due rows
are taken with ``FOR UPDATE SKIP LOCKED``, so two gateways never replay the same event.
"""

from __future__ import annotations

import time

from adapters.slack.received_journal import MAX_REPLAYS, Received
from adapters.storage.postgres import PostgresDatabase, outages_as_unavailable


@outages_as_unavailable
class PostgresReceivedJournal:
    def __init__(self, database: PostgresDatabase) -> None:
        self.database = database

    async def open(self) -> None:
        await self.database.open()

    async def close(self) -> None:
        """The database is shared with the other stores; its owner closes it."""

    async def put(self, event_id: str, body: str, owner: str) -> None:
        await self.database.pool.execute(
            "INSERT INTO slack_received(event_id, body, owner, received_at) VALUES ($1, $2, $3, $4)"
            " ON CONFLICT (event_id) DO NOTHING",
            event_id,
            body,
            owner,
            time.time(),
        )

    async def done(self, event_id: str) -> None:
        await self.database.pool.execute("DELETE FROM slack_received WHERE event_id = $1", event_id)

    async def take_due(self, owner: str, older_than: float, limit: int) -> tuple[list[Received], list[Received]]:
        now = time.time()
        async with self.database.pool.acquire() as conn, conn.transaction():
            rows = await conn.fetch(
                "SELECT event_id, body, replays FROM slack_received WHERE received_at < $1"
                " ORDER BY received_at LIMIT $2 FOR UPDATE SKIP LOCKED",
                now - older_than,
                limit,
            )
            due = [Received(r["event_id"], r["body"], r["replays"] + 1) for r in rows]
            replay = [r for r in due if r.replays <= MAX_REPLAYS]
            dropped = [r for r in due if r.replays > MAX_REPLAYS]
            await conn.executemany(
                "UPDATE slack_received SET owner = $1, received_at = $2, replays = $3 WHERE event_id = $4",
                [(owner, now, r.replays, r.event_id) for r in replay],
            )
            await conn.executemany("DELETE FROM slack_received WHERE event_id = $1", [(r.event_id,) for r in dropped])
        return replay, dropped
