"""Opening a SQLite file that gateway and worker processes set up at the same time.

Switching a fresh file to WAL (and creating its tables) needs the file's write lock, and
SQLite can answer "database is locked" at once instead of waiting its busy timeout when
another process is doing the same. The set-up script is idempotent, so it is simply tried
again for a moment.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiosqlite

#: Attempts at the set-up script while another process holds the file's lock.
SETUP_TRIES = 10


async def open_sqlite(path: Path, setup_script: str, *, timeout: float = 10, **connect: Any) -> aiosqlite.Connection:
    """Connect to ``path`` (creating its folder) and run ``setup_script`` (WAL, tables)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    db = await aiosqlite.connect(path, timeout=timeout, **connect)
    try:
        for attempt in range(SETUP_TRIES):
            try:
                await db.executescript(setup_script)
                return db
            except sqlite3.OperationalError as err:
                if "locked" not in str(err) or attempt + 1 == SETUP_TRIES:
                    raise
                await asyncio.sleep(0.05 * (attempt + 1))
    except BaseException:
        await db.close()
        raise
    return db


async def fetch_one(db: aiosqlite.Connection, sql: str, params: tuple[Any, ...] = ()) -> sqlite3.Row | None:
    """The first row of a query, or None.

    The query runs to its end in one call on the connection's thread. A cursor left open across
    an await holds an old snapshot of the file, and a write that other coroutines queue on the
    connection meanwhile cannot upgrade it once another process has committed: SQLite then
    answers "database is locked" at once, without waiting its busy timeout.
    """
    rows = list(await db.execute_fetchall(sql, params))
    return rows[0] if rows else None


class SqliteConnection:
    """Holds a store's one aiosqlite connection: ``db`` refuses use before open(), ``close`` may run twice.

    Many coroutines share the one connection, and Python's sqlite3 opens a transaction at the
    first write and holds the file's write lock until commit. So writes go through
    ``transaction()``: one at a time, committed together, and rolled back when any statement
    fails. A write that failed half-way ("database is locked" on a busy host) would otherwise
    keep the lock and lock out every other process on the file.
    """

    _db: aiosqlite.Connection | None = None
    #: The error when the store is used before its open().
    _not_open = "the SQLite file is not open"
    _write_lock: asyncio.Lock | None = None

    @contextlib.asynccontextmanager
    async def transaction(self, *, immediate: bool = False) -> AsyncIterator[aiosqlite.Connection]:
        """Statements committed together. ``immediate`` takes the file's write lock up front (BEGIN
        IMMEDIATE), for a read-then-write that another process must not interleave."""
        async with self._writes:
            db = self.db
            if immediate or db.isolation_level is None:  # autocommit mode would commit each statement alone
                await db.execute("BEGIN IMMEDIATE" if immediate else "BEGIN")
            try:
                yield db
            except BaseException:
                await self.db.rollback()
                raise
            await self.db.commit()

    async def write_one(self, sql: str, params: tuple[Any, ...] = ()) -> int:
        """One statement that commits on its own, in one trip to the connection's thread.

        For stores opened in autocommit mode (``isolation_level=None``): the statement is its own
        transaction, where ``transaction()`` costs three trips (BEGIN, the statement, COMMIT);
        each trip is a thread hop through the event loop, which the gateway and worker pay per
        message (docs/performance.md). It still waits for the write lock, so it never lands
        inside another coroutine's open transaction. Returns how many rows it changed.
        """
        async with self._writes:
            cursor = await self.db.execute(sql, params)
            return cursor.rowcount

    @property
    def _writes(self) -> asyncio.Lock:
        """One write at a time on the one connection (made on first use, inside the running loop)."""
        if self._write_lock is None:
            self._write_lock = asyncio.Lock()
        return self._write_lock

    @property
    def db(self) -> aiosqlite.Connection:
        if self._db is None:
            raise RuntimeError(self._not_open)
        return self._db

    async def close(self) -> None:
        if self._db is not None:
            await self._db.close()
            self._db = None
