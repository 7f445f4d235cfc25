"""Slack events between bolt's acknowledgement and the inbound queue: kept until their listener ends.

Slack wants an answer within 3 seconds, so bolt acknowledges an event before its listener
runs (process_before_response=False); the listener then looks up the thread and the
sender and only then hands the message to the durable inbound queue. A gateway that dies
in between would lose an event Slack was told we have. So a bolt middleware writes each
message event here *before* the acknowledgement, the listener removes it when it is done
(queued, answered or deliberately ignored), and any gateway replays what a dead one left
behind once it is older than the replay delay. A replay is harmless when the first run got
further than it looked: the inbound queue and Temporal dedupe by message id.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from adapters.sqlite_file import SqliteConnection, open_sqlite

#: Replays of one event before it is dropped (with a WARNING): a poison event must not loop.
MAX_REPLAYS = 3

SCHEMA = """
PRAGMA journal_mode=WAL;
CREATE TABLE IF NOT EXISTS slack_received (
    event_id TEXT PRIMARY KEY,
    body TEXT NOT NULL,
    owner TEXT NOT NULL,
    received_at REAL NOT NULL,
    replays INTEGER NOT NULL DEFAULT 0
);
"""


@dataclass(frozen=True)
class Received:
    event_id: str
    body: str
    replays: int


class ReceivedJournal(Protocol):
    async def open(self) -> None: ...

    async def close(self) -> None: ...

    async def put(self, event_id: str, body: str, owner: str) -> None:
        """Keep ``body`` (the event's JSON) until ``done``; a second put of the same event changes nothing."""
        ...

    async def done(self, event_id: str) -> None: ...

    async def take_due(self, owner: str, older_than: float, limit: int) -> tuple[list[Received], list[Received]]:
        """Events other gateways (or this one before a restart) left for longer than ``older_than`` seconds.

        Returns (to replay, given up): each returned event is re-owned by ``owner`` with its
        replay count raised; one replayed MAX_REPLAYS times already is deleted and returned
        as given up.
        """
        ...


class SqliteReceivedJournal(SqliteConnection):
    _not_open = "the Slack received-events journal is not open"

    def __init__(self, path: Path) -> None:
        self.path = path

    async def open(self) -> None:
        # Autocommit: put and done are one statement each, one thread hop (write_one).
        self._db = await open_sqlite(self.path, SCHEMA, isolation_level=None)

    async def put(self, event_id: str, body: str, owner: str) -> None:
        await self.write_one(
            "INSERT OR IGNORE INTO slack_received(event_id, body, owner, received_at) VALUES (?,?,?,?)",
            (event_id, body, owner, time.time()),
        )

    async def done(self, event_id: str) -> None:
        await self.write_one("DELETE FROM slack_received WHERE event_id = ?", (event_id,))

    async def take_due(self, owner: str, older_than: float, limit: int) -> tuple[list[Received], list[Received]]:
        now = time.time()
        # The write lock first: two gateways never take the same event.
        async with self.transaction(immediate=True) as db:
            rows = await db.execute_fetchall(
                "SELECT event_id, body, replays FROM slack_received WHERE received_at < ? ORDER BY received_at LIMIT ?",
                (now - older_than, limit),
            )
            due = [Received(r[0], r[1], r[2] + 1) for r in rows]
            replay = [r for r in due if r.replays <= MAX_REPLAYS]
            dropped = [r for r in due if r.replays > MAX_REPLAYS]
            await db.executemany(
                "UPDATE slack_received SET owner = ?, received_at = ?, replays = ? WHERE event_id = ?",
                [(owner, now, r.replays, r.event_id) for r in replay],
            )
            await db.executemany("DELETE FROM slack_received WHERE event_id = ?", [(r.event_id,) for r in dropped])
        return replay, dropped
