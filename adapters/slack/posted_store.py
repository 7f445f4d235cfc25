"""What this worker has posted, by idempotency key, so a retried post activity does not post twice.

A post activity that crashed (or timed out) after Slack accepted the message is retried
by Temporal with the same idempotency key; finding the key here returns the earlier
message instead of posting again. The remaining window (Slack accepted, the row was not
yet written) is covered by the message metadata lookup in platform.py; see docs/slack.md.
"""

from __future__ import annotations

import time
from pathlib import Path

import aiosqlite

KEEP_SECONDS = 7 * 86_400  # longer than any post activity's schedule-to-close timeout

SCHEMA = """
CREATE TABLE IF NOT EXISTS slack_posted (
    idempotency_key TEXT PRIMARY KEY,
    channel TEXT NOT NULL,
    ts TEXT NOT NULL,
    created_at REAL NOT NULL
)
"""


class PostedStore:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._db: aiosqlite.Connection | None = None

    async def open(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = await aiosqlite.connect(self.path)
        await self._db.execute("PRAGMA journal_mode=WAL")
        await self._db.execute(SCHEMA)
        await self._db.execute("DELETE FROM slack_posted WHERE created_at < ?", (time.time() - KEEP_SECONDS,))
        await self._db.commit()

    async def close(self) -> None:
        if self._db is not None:
            await self._db.close()
            self._db = None

    @property
    def db(self) -> aiosqlite.Connection:
        if self._db is None:
            raise RuntimeError("PostedStore is not open")
        return self._db

    async def get(self, key: str) -> tuple[str, str] | None:
        """(channel, ts) of the message posted under ``key``, if any."""
        async with self.db.execute("SELECT channel, ts FROM slack_posted WHERE idempotency_key = ?", (key,)) as cur:
            row = await cur.fetchone()
        return (row[0], row[1]) if row else None

    async def put(self, key: str, channel: str, ts: str) -> None:
        await self.db.execute(
            "INSERT OR REPLACE INTO slack_posted (idempotency_key, channel, ts, created_at) VALUES (?, ?, ?, ?)",
            (key, channel, ts, time.time()),
        )
        await self.db.commit()
