"""What this worker has posted, by idempotency key, so a retried post activity does not post twice.

A post activity that crashed (or timed out) after the platform accepted the message is
retried by Temporal with the same idempotency key; finding the key here returns the
earlier message instead of posting again. What remains is the window between the
platform accepting a post and the row being written (docs/slack.md says how Slack
narrows it further with message metadata).

Two backends: a SQLite file in the data dir (one host; the default) and PostgreSQL
(posted_log_postgres.py, THREADWORK_DATABASE_URL), where a post retried on another
worker host still finds the first worker's record.
"""

from __future__ import annotations

import json
import time
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any

from adapters.sqlite_file import SqliteConnection, fetch_one, open_sqlite

KEEP_SECONDS = 7 * 86_400  # longer than any post activity's schedule-to-close timeout

SCHEMA = """
CREATE TABLE IF NOT EXISTS posted (
    idempotency_key TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    created_at REAL NOT NULL
)
"""


class PostedLog(ABC):
    """Idempotency key -> what was posted (a JSON object)."""

    @abstractmethod
    async def open(self) -> None:
        """Connect, and forget records older than KEEP_SECONDS."""

    @abstractmethod
    async def close(self) -> None: ...

    @abstractmethod
    async def get(self, key: str) -> dict[str, Any] | None: ...

    @abstractmethod
    async def put(self, key: str, value: dict[str, Any]) -> None:
        """Record (or overwrite) what was posted under ``key``."""

    @abstractmethod
    async def put_if_absent(self, key: str, value: dict[str, Any]) -> dict[str, Any] | None:
        """Record ``value`` unless ``key`` has a record: None when it was recorded now, else the record
        that was there. One atomic step, so of two tries of the same post only one finds it absent."""


class SqlitePostedLog(SqliteConnection, PostedLog):
    """A small SQLite table in the data dir."""

    _not_open = "PostedLog is not open"

    def __init__(self, path: Path) -> None:
        self.path = path

    async def open(self) -> None:
        # Autocommit: each write is one statement, one thread hop (write_one).
        self._db = await open_sqlite(self.path, "PRAGMA journal_mode=WAL;\n" + SCHEMA, isolation_level=None)
        await self.write_one("DELETE FROM posted WHERE created_at < ?", (time.time() - KEEP_SECONDS,))

    async def get(self, key: str) -> dict[str, Any] | None:
        row = await fetch_one(self.db, "SELECT value FROM posted WHERE idempotency_key = ?", (key,))
        return json.loads(row[0]) if row else None

    async def put(self, key: str, value: dict[str, Any]) -> None:
        await self.write_one(
            "INSERT OR REPLACE INTO posted (idempotency_key, value, created_at) VALUES (?, ?, ?)",
            (key, json.dumps(value), time.time()),
        )

    async def put_if_absent(self, key: str, value: dict[str, Any]) -> dict[str, Any] | None:
        # One trip when the key is new (every first try of a post); a second one only to read what was there.
        inserted = await self.write_one(
            "INSERT INTO posted (idempotency_key, value, created_at) VALUES (?, ?, ?)"
            " ON CONFLICT (idempotency_key) DO NOTHING",
            (key, json.dumps(value), time.time()),
        )
        if inserted:
            return None
        return await self.get(key) or {}  # {}: the record was pruned in between; it was there all the same
