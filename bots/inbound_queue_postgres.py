"""The inbound queue in PostgreSQL: gateways on many hosts share one queue.

The same contract as ``SQLiteInboundQueue`` (bots/inbound_queue.py):
- ``enqueue`` takes a per-session transaction lock (``pg_advisory_xact_lock``), so the
  sequence order of a conversation's messages is the order they were stored, whichever
  gateway stored them;
- ``claim`` hands out only the oldest entry of each session and locks the rows it leases
  with ``FOR UPDATE SKIP LOCKED``, so two draining gateways never take the same entry
  and never wait on each other.
An unreachable database raises ``StoreUnavailable`` (the dispatcher then delivers
without the queue, as it does when the SQLite file fails).
"""

from __future__ import annotations

import time

from adapters.storage.postgres import PostgresDatabase, outages_as_unavailable
from bots.inbound_queue import Enqueued, Entry, QueueStats
from workflows.contracts import ChatMessage

CLAIM = """
WITH heads AS (
    SELECT DISTINCT ON (session_id) seq FROM inbound ORDER BY session_id, seq
)
SELECT i.seq, i.session_id, i.body, i.enqueued_at, i.attempts
FROM inbound AS i JOIN heads USING (seq)
WHERE i.next_attempt_at <= $1 AND (i.lease_until IS NULL OR i.lease_until < $1)
ORDER BY i.seq
LIMIT $2
FOR UPDATE OF i SKIP LOCKED
"""


@outages_as_unavailable
class PostgresInboundQueue:
    def __init__(self, database: PostgresDatabase) -> None:
        self.database = database

    async def open(self) -> None:
        await self.database.open()

    async def close(self) -> None:
        """The database is shared with the other stores; its owner closes it."""

    async def enqueue(self, msg: ChatMessage, owner: str, lease_seconds: float) -> tuple[Enqueued, int, int]:
        session_id = msg.key.session_id()
        now = time.time()
        async with self.database.pool.acquire() as conn, conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", session_id)
            seq = await conn.fetchval(
                "INSERT INTO inbound(session_id, message_id, body, enqueued_at, next_attempt_at)"
                " VALUES ($1, $2, $3, $4, $4) ON CONFLICT (session_id, message_id) DO NOTHING RETURNING seq",
                session_id,
                msg.message_id,
                msg.model_dump_json(),
                now,
            )
            if seq is None:
                queued = await conn.fetchval(
                    "SELECT seq FROM inbound WHERE session_id = $1 AND message_id = $2", session_id, msg.message_id
                )
                return Enqueued.ALREADY_QUEUED, queued, 0
            older = await conn.fetchrow(
                "SELECT attempts FROM inbound WHERE session_id = $1 AND seq < $2 ORDER BY seq LIMIT 1", session_id, seq
            )
            if older is not None:
                return Enqueued.BEHIND, seq, older["attempts"]
            await conn.execute(
                "UPDATE inbound SET lease_owner = $1, lease_until = $2 WHERE seq = $3", owner, now + lease_seconds, seq
            )
            return Enqueued.HEAD, seq, 0

    async def claim(self, owner: str, limit: int, lease_seconds: float) -> list[Entry]:
        if limit <= 0:
            return []
        now = time.time()
        async with self.database.pool.acquire() as conn, conn.transaction():
            rows = await conn.fetch(CLAIM, now, limit)
            await conn.executemany(
                "UPDATE inbound SET lease_owner = $1, lease_until = $2 WHERE seq = $3",
                [(owner, now + lease_seconds, r["seq"]) for r in rows],
            )
        return [
            Entry(
                r["seq"], r["session_id"], ChatMessage.model_validate_json(r["body"]), r["enqueued_at"], r["attempts"]
            )
            for r in rows
        ]

    async def done(self, seq: int) -> None:
        async with self.database.pool.acquire() as conn, conn.transaction():
            session_id = await conn.fetchval("DELETE FROM inbound WHERE seq = $1 RETURNING session_id", seq)
            if session_id is not None:  # the conversation's outage is over once nothing of it waits
                await conn.execute(
                    "DELETE FROM inbound_catching_up_said WHERE session_id = $1"
                    " AND NOT EXISTS (SELECT 1 FROM inbound WHERE session_id = $1)",
                    session_id,
                )

    async def retry_later(self, seq: int, owner: str, delay: float, error: str) -> None:
        await self.database.pool.execute(
            "UPDATE inbound SET attempts = attempts + 1, next_attempt_at = $1, lease_owner = NULL, lease_until = NULL,"
            " last_error = $2 WHERE seq = $3 AND lease_owner = $4",
            time.time() + delay,
            error[:500],
            seq,
            owner,
        )

    async def first_notice(self, session_id: str) -> bool:
        status = await self.database.pool.execute(
            "INSERT INTO inbound_catching_up_said(session_id, said_at) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            session_id,
            time.time(),
        )
        return status == "INSERT 0 1"

    async def stats(self) -> QueueStats:
        row = await self.database.pool.fetchrow("SELECT COUNT(*) AS depth, MIN(enqueued_at) AS oldest FROM inbound")
        assert row is not None  # an aggregate always returns one row
        oldest = row["oldest"]
        return QueueStats(row["depth"], max(0.0, time.time() - oldest) if oldest is not None else 0.0)
