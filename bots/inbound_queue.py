"""The gateway's durable inbound queue: every accepted message is written here first.

A message stays until its session has accepted it, so a worker crash, a Temporal
restart or a burst never turns an acknowledged message into a lost one. Entries are
claimed with leases (owner + expiry) rather than owned in memory, so any gateway
process sharing the store can drain what another one left behind, and a SIGKILLed
gateway's entries come back once their lease runs out.

``InboundQueue`` is the interface the dispatcher uses; ``SQLiteInboundQueue`` is the
one-host implementation (WAL, one file in THREADWORK_DATA_DIR);
``PostgresInboundQueue`` (bots/inbound_queue_postgres.py) is the one gateways on many
hosts share.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Protocol

import aiosqlite

from adapters.sqlite_file import SqliteConnection, fetch_one, open_sqlite
from workflows.contracts import ChatMessage

SCHEMA = """
PRAGMA journal_mode=WAL;
CREATE TABLE IF NOT EXISTS inbound (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    session_id TEXT NOT NULL,
    message_id TEXT NOT NULL,
    body TEXT NOT NULL,
    enqueued_at REAL NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at REAL NOT NULL,
    lease_owner TEXT,
    lease_until REAL,
    last_error TEXT NOT NULL DEFAULT '',
    UNIQUE (session_id, message_id)
);
CREATE INDEX IF NOT EXISTS inbound_by_session ON inbound(session_id, seq);
CREATE TABLE IF NOT EXISTS catching_up_said (
    session_id TEXT PRIMARY KEY,
    said_at REAL NOT NULL
);
-- A conversation's outage is over once nothing of it waits: its next outage says "catching up" again.
CREATE TRIGGER IF NOT EXISTS inbound_outage_over AFTER DELETE ON inbound
BEGIN
    DELETE FROM catching_up_said WHERE session_id = OLD.session_id
        AND NOT EXISTS (SELECT 1 FROM inbound WHERE session_id = OLD.session_id);
END;
"""

#: Enqueue in one statement (one thread hop): the row is leased to the caller only when nothing older
#: of its session waits. A write statement holds the file's write lock from its start, so the check
#: and the insert are one atomic step even between gateway processes.
ENQUEUE = """
INSERT OR IGNORE INTO inbound(session_id, message_id, body, enqueued_at, next_attempt_at, lease_owner, lease_until)
SELECT :session, :message, :body, :now, :now,
       CASE WHEN older.seq IS NULL THEN :owner END,
       CASE WHEN older.seq IS NULL THEN :until END
FROM (SELECT 1) LEFT JOIN (SELECT seq FROM inbound WHERE session_id = :session LIMIT 1) AS older
RETURNING seq, lease_owner IS NOT NULL
"""


#: The entries a drainer may take now: the oldest of each session, due, and not leased (or the lease ran out).
CLAIMABLE = """
SELECT seq, session_id, body, enqueued_at, attempts FROM inbound AS i
WHERE seq = (SELECT MIN(seq) FROM inbound WHERE session_id = i.session_id)
  AND next_attempt_at <= ? AND (lease_until IS NULL OR lease_until < ?)
ORDER BY seq LIMIT ?
"""


class Enqueued(Enum):
    """What ``enqueue`` did with a message."""

    HEAD = "head"  # new, and first in its session: leased to the caller, deliver it now
    BEHIND = "behind"  # new, but older messages of its session wait: the drainer keeps the order
    ALREADY_QUEUED = "already_queued"  # the same message id is waiting already (a platform retry)


@dataclass(frozen=True)
class Entry:
    seq: int
    session_id: str
    message: ChatMessage
    enqueued_at: float
    attempts: int


@dataclass(frozen=True)
class QueueStats:
    depth: int
    oldest_age_seconds: float


class InboundQueue(Protocol):
    async def open(self) -> None: ...

    async def close(self) -> None: ...

    async def enqueue(self, msg: ChatMessage, owner: str, lease_seconds: float) -> tuple[Enqueued, int, int]:
        """Store ``msg`` (deduplicated by session + message id).

        Returns what happened, its seq, and how often the oldest waiting message of its
        session has failed already (0 when nothing is stuck).
        """
        ...

    async def claim(self, owner: str, limit: int, lease_seconds: float) -> list[Entry]:
        """Lease up to ``limit`` due entries, only the oldest of each session (order per session)."""
        ...

    async def done(self, seq: int) -> None:
        """The session took it (or refused it for good): forget it; an empty session's outage is over."""
        ...

    async def retry_later(self, seq: int, owner: str, delay: float, error: str) -> None:
        """Give the lease back and try again in ``delay`` seconds."""
        ...

    async def first_notice(self, session_id: str) -> bool:
        """True once per outage per session: whether to say "catching up" now."""
        ...

    async def stats(self) -> QueueStats: ...


class SQLiteInboundQueue(SqliteConnection):
    _not_open = "the inbound queue is not open"

    def __init__(self, path: Path) -> None:
        self.path = path
        #: One connection, many coroutines: transactions must not interleave on it.
        self._lock = asyncio.Lock()

    async def open(self) -> None:
        self._db = await open_sqlite(self.path, SCHEMA, timeout=30, isolation_level=None)

    @contextlib.asynccontextmanager
    async def _transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        """BEGIN IMMEDIATE: the write lock up front, so two gateways never claim the same entry."""
        async with self._lock:
            await self.db.execute("BEGIN IMMEDIATE")
            try:
                yield self.db
            except BaseException:
                await self.db.execute("ROLLBACK")
                raise
            await self.db.execute("COMMIT")

    async def enqueue(self, msg: ChatMessage, owner: str, lease_seconds: float) -> tuple[Enqueued, int, int]:
        session_id = msg.key.session_id()
        now = time.time()
        values = {
            "session": session_id,
            "message": msg.message_id,
            "body": msg.model_dump_json(),
            "now": now,
            "owner": owner,
            "until": now + lease_seconds,
        }
        async with self._lock:
            inserted = list(await self.db.execute_fetchall(ENQUEUE, values))
            if not inserted:  # ignored: this message id waits already (a platform retry)
                queued = await fetch_one(
                    self.db,
                    "SELECT seq FROM inbound WHERE session_id = ? AND message_id = ?",
                    (session_id, msg.message_id),
                )
                if queued is None:  # delivered and removed in between: it is not waiting any more
                    return Enqueued.ALREADY_QUEUED, 0, 0
                return Enqueued.ALREADY_QUEUED, queued[0], 0
            seq, head = inserted[0]
            if head:
                return Enqueued.HEAD, seq, 0
            older = await fetch_one(
                self.db,
                "SELECT attempts FROM inbound WHERE session_id = ? AND seq < ? ORDER BY seq LIMIT 1",
                (session_id, seq),
            )
            return Enqueued.BEHIND, seq, older[0] if older is not None else 0

    async def claim(self, owner: str, limit: int, lease_seconds: float) -> list[Entry]:
        if limit <= 0:
            return []
        now = time.time()
        # The drainer asks after every delivery, and in a burst there is mostly nothing to claim: a
        # plain read says so in one trip to the connection's thread, where the write transaction
        # below takes four. An entry that becomes due just after it waits for the next wake or poll.
        async with self._lock:
            if await fetch_one(self.db, CLAIMABLE, (now, now, 1)) is None:
                return []
        async with self._transaction() as db:
            rows = await db.execute_fetchall(CLAIMABLE, (now, now, limit))
            await db.executemany(
                "UPDATE inbound SET lease_owner = ?, lease_until = ? WHERE seq = ?",
                [(owner, now + lease_seconds, r[0]) for r in rows],
            )
        return [Entry(r[0], r[1], ChatMessage.model_validate_json(r[2]), r[3], r[4]) for r in rows]

    async def done(self, seq: int) -> None:
        # One statement; the trigger inbound_outage_over clears the conversation's "catching up" mark.
        async with self._lock:
            await self.db.execute("DELETE FROM inbound WHERE seq = ?", (seq,))

    async def retry_later(self, seq: int, owner: str, delay: float, error: str) -> None:
        async with self._transaction() as db:
            await db.execute(
                "UPDATE inbound SET attempts = attempts + 1, next_attempt_at = ?, lease_owner = NULL, lease_until = NULL,"
                " last_error = ? WHERE seq = ? AND lease_owner = ?",
                (time.time() + delay, error[:500], seq, owner),
            )

    async def first_notice(self, session_id: str) -> bool:
        async with self._transaction() as db:
            cur = await db.execute(
                "INSERT OR IGNORE INTO catching_up_said(session_id, said_at) VALUES (?,?)", (session_id, time.time())
            )
            return cur.rowcount == 1

    async def stats(self) -> QueueStats:
        async with self._lock:
            row = await fetch_one(self.db, "SELECT COUNT(*), MIN(enqueued_at) FROM inbound")
        depth, oldest = row if row is not None else (0, None)
        return QueueStats(depth, max(0.0, time.time() - oldest) if oldest is not None else 0.0)
