"""The post log in PostgreSQL: every worker host shares one exactly-once record per platform."""

from __future__ import annotations

import time
from typing import Any

from adapters.posted_log import KEEP_SECONDS, PostedLog
from adapters.storage.postgres import PostgresDatabase, outages_as_unavailable


@outages_as_unavailable
class PostgresPostedLog(PostedLog):
    """Rows of ``posted_log`` under one ``log`` name ("slack", "teams")."""

    def __init__(self, database: PostgresDatabase, log: str) -> None:
        self.database = database
        self.log = log

    async def open(self) -> None:
        await self.database.open()
        await self.database.pool.execute(
            "DELETE FROM posted_log WHERE log = $1 AND created_at < $2", self.log, time.time() - KEEP_SECONDS
        )

    async def close(self) -> None:
        """The database is shared with the other stores; its owner closes it."""

    async def get(self, key: str) -> dict[str, Any] | None:
        return await self.database.pool.fetchval(
            "SELECT value FROM posted_log WHERE log = $1 AND idempotency_key = $2", self.log, key
        )

    async def put(self, key: str, value: dict[str, Any]) -> None:
        await self.database.pool.execute(
            "INSERT INTO posted_log(log, idempotency_key, value, created_at) VALUES ($1, $2, $3, $4)"
            " ON CONFLICT (log, idempotency_key) DO UPDATE SET value = EXCLUDED.value, created_at = EXCLUDED.created_at",
            self.log,
            key,
            value,
            time.time(),
        )

    async def put_if_absent(self, key: str, value: dict[str, Any]) -> dict[str, Any] | None:
        inserted = await self.database.pool.fetchval(
            "INSERT INTO posted_log(log, idempotency_key, value, created_at) VALUES ($1, $2, $3, $4)"
            " ON CONFLICT (log, idempotency_key) DO NOTHING RETURNING true",
            self.log,
            key,
            value,
            time.time(),
        )
        if inserted:
            return None
        return await self.get(key) or {}  # {}: the record was pruned in between; it was there all the same
