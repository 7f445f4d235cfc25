"""One asyncpg pool per process for every PostgreSQL-backed store, and the migrations that apply at start.

Migrations are the numbered files in migrations/ (``NNNN_name.sql``), applied in order,
each in its own transaction, recorded in ``threadwork_migrations``. Many workers and
gateways may start at once: the runner holds a session advisory lock, so one applies
them and the others then find them done. Never edit an applied file; add the next one.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import json
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import asyncpg
from asyncpg.pool import PoolConnectionProxy

from adapters.storage import StoreUnavailable

log = logging.getLogger(__name__)
MIGRATIONS_DIR = Path(__file__).with_name("migrations")
#: pg_advisory_lock key of the migration runner ("threadwk" as a 64-bit number).
MIGRATION_LOCK = 0x7468726561647770
_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")
#: A connection of its own, or one borrowed from the pool.
Conn = asyncpg.Connection | PoolConnectionProxy


def is_postgres_url(url: str | None) -> bool:
    return url is not None and url.split("://", 1)[0] in ("postgres", "postgresql")


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str


def migrations() -> list[Migration]:
    found = []
    for path in sorted(MIGRATIONS_DIR.glob("*.sql")):
        match = _NAME.match(path.name)
        if not match:
            raise RuntimeError(f"{path} is not named NNNN_name.sql")
        found.append(Migration(int(match[1]), match[2], path.read_text()))
    versions = [m.version for m in found]
    if versions != list(range(1, len(found) + 1)):
        raise RuntimeError(f"migrations must be numbered 1..n without gaps, found {versions}")
    return found


async def _init_connection(conn: asyncpg.Connection) -> None:
    for kind in ("json", "jsonb"):
        await conn.set_type_codec(kind, encoder=json.dumps, decoder=json.loads, schema="pg_catalog")


async def migrate(conn: Conn) -> list[int]:
    """Apply the migrations this database lacks, under the advisory lock; returns the versions applied."""
    applied: list[int] = []
    await conn.execute("SELECT pg_advisory_lock($1)", MIGRATION_LOCK)
    try:
        await conn.execute(
            "CREATE TABLE IF NOT EXISTS threadwork_migrations ("
            " version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())"
        )
        done = {r["version"] for r in await conn.fetch("SELECT version FROM threadwork_migrations")}
        known = migrations()
        newer = sorted(done - {m.version for m in known})
        if newer:
            log.warning("database has migrations %s that this build does not know (a newer build ran); going on", newer)
        for m in known:
            if m.version in done:
                continue
            async with conn.transaction():
                await conn.execute(m.sql)
                await conn.execute(
                    "INSERT INTO threadwork_migrations(version, name) VALUES ($1, $2)", m.version, m.name
                )
            log.info("database: applied migration %04d_%s", m.version, m.name)
            applied.append(m.version)
    finally:
        await conn.execute("SELECT pg_advisory_unlock($1)", MIGRATION_LOCK)
    return applied


class PostgresDatabase:
    """The shared pool; ``open`` connects and migrates, ``listen`` wakes a callback on NOTIFY."""

    def __init__(self, url: str, *, min_size: int = 1, max_size: int = 10) -> None:
        self.url = url
        self.min_size = min_size
        self.max_size = max_size
        self._pool: asyncpg.Pool | None = None
        self._listener: asyncpg.Connection | None = None
        self._channels: set[str] = set()

    async def open(self) -> None:
        if self._pool is not None:
            return
        try:
            self._pool = await asyncpg.create_pool(
                self.url, min_size=self.min_size, max_size=self.max_size, init=_init_connection
            )
        except (OSError, asyncpg.PostgresError) as err:
            raise StoreUnavailable(f"cannot connect to THREADWORK_DATABASE_URL ({_safe(self.url)}): {err}") from err
        try:
            async with self._pool.acquire() as conn:
                await migrate(conn)
        except asyncpg.PostgresError as err:  # e.g. a user that may not create tables
            await self.close()
            raise StoreUnavailable(f"applying the database migrations failed ({_safe(self.url)}): {err}") from err

    @property
    def pool(self) -> asyncpg.Pool:
        if self._pool is None:
            raise RuntimeError("PostgresDatabase.open() was not called")
        return self._pool

    def is_listening(self, channel: str) -> bool:
        """False before ``listen`` and after the listening connection was lost (then listen again)."""
        return self._listener is not None and not self._listener.is_closed() and channel in self._channels

    async def listen(self, channel: str, callback: Callable[[str], None]) -> None:
        """Call ``callback(payload)`` on every NOTIFY on ``channel`` (one dedicated connection per process)."""
        if self._listener is None or self._listener.is_closed():
            self._channels.clear()
            self._listener = await asyncpg.connect(self.url)
        await self._listener.add_listener(channel, lambda _conn, _pid, _channel, payload: callback(payload))
        self._channels.add(channel)

    async def close(self) -> None:
        if self._listener is not None:
            await self._listener.close()
            self._listener = None
        if self._pool is not None:
            await self._pool.close()
            self._pool = None


#: What a lost or refused connection raises; anything else (a constraint, bad SQL) is a bug.
OUTAGES = (
    OSError,
    asyncio.TimeoutError,
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    asyncpg.CannotConnectNowError,
    asyncpg.AdminShutdownError,
)
T = TypeVar("T")


def outages_as_unavailable(cls: type[T]) -> type[T]:
    """Class decorator: public coroutine methods raise StoreUnavailable when the database is unreachable."""
    for name, fn in list(vars(cls).items()):
        if name.startswith("_") or not inspect.iscoroutinefunction(fn):
            continue

        @functools.wraps(fn)
        async def wrapper(*args: Any, _fn: Callable[..., Awaitable[Any]] = fn, **kwargs: Any) -> Any:
            try:
                return await _fn(*args, **kwargs)
            except OUTAGES as err:
                raise StoreUnavailable(f"PostgreSQL is unreachable: {err or type(err).__name__}") from err

        setattr(cls, name, wrapper)
    return cls


def _safe(url: str) -> str:
    """The URL without its password, for messages and logs."""
    return re.sub(r"://([^:/@]+):[^@]*@", r"://\1:***@", url)
