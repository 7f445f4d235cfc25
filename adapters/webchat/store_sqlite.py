"""The web chat store in a SQLite file of the data dir, shared by gateway and worker on one host.

Every insert or edit appends a row to ``events``; the live stream tails that table
(polling), so a worker in another process (same data dir) reaches browsers too.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sqlite3
import time
from pathlib import Path
from typing import Any

import aiosqlite

from adapters.sqlite_file import SqliteConnection, fetch_one, open_sqlite
from adapters.webchat.store import DEFAULT_CHANNELS, Handover, InviteRow, WebChatStore, channel_candidates, new_id

log = logging.getLogger(__name__)

SCHEMA = """
PRAGMA journal_mode=WAL;
CREATE TABLE IF NOT EXISTS channels (
    id TEXT PRIMARY KEY, name TEXT NOT NULL, topic TEXT NOT NULL DEFAULT '', created_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS messages (
    id TEXT PRIMARY KEY, channel TEXT NOT NULL, thread TEXT NOT NULL, user TEXT NOT NULL,
    is_bot INTEGER NOT NULL, text TEXT NOT NULL, blocks TEXT NOT NULL DEFAULT '[]',
    ts REAL NOT NULL, idempotency_key TEXT UNIQUE, files TEXT NOT NULL DEFAULT '[]'
);
CREATE INDEX IF NOT EXISTS messages_by_thread ON messages(channel, thread, ts);
CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT NOT NULL, message_id TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS handover (
    message_id TEXT PRIMARY KEY, body TEXT NOT NULL, stored_at REAL NOT NULL, replays INTEGER NOT NULL DEFAULT 0
);
"""

INVITES = """
CREATE TABLE IF NOT EXISTS invites (
    token_hash TEXT PRIMARY KEY, name TEXT NOT NULL, created_at REAL NOT NULL,
    expires_at REAL NOT NULL, used_at REAL
);
CREATE TABLE IF NOT EXISTS revocations (name TEXT PRIMARY KEY, revoked_at REAL NOT NULL);
"""


#: How often a process looks for events other processes wrote, while its streams wait.
WATCH_SECONDS = 0.2
#: The watch ends this long after the last stream waited (a new wait starts it again).
WATCH_IDLE_SECONDS = 5.0


class SqliteWebChatStore(SqliteConnection, WebChatStore):
    _not_open = "SqliteWebChatStore.open() was not called"

    def __init__(self, path: Path) -> None:
        super().__init__()
        self.path = path
        self._watcher: asyncio.Task[None] | None = None
        self._last_wait = 0.0

    async def _before_wait(self) -> None:
        """Another process's writes (the worker's replies and stream chunks) wake this one's streams
        within ``WATCH_SECONDS``: one shared watch per process while streams wait, not a poll per browser."""
        self._last_wait = asyncio.get_running_loop().time()
        if self._watcher is None or self._watcher.done():
            self._watcher = asyncio.create_task(self._watch_other_processes())

    async def _watch_other_processes(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            seen = await self.last_event_seq()
            while loop.time() - self._last_wait < WATCH_IDLE_SECONDS:  # stops once no stream waits
                await asyncio.sleep(WATCH_SECONDS)
                latest = await self.last_event_seq()
                if latest != seen:
                    seen = latest
                    self._notify()
        except (
            sqlite3.Error,
            RuntimeError,
            ValueError,
        ) as err:  # closing, or a busy file: the streams' own poll remains
            log.debug("web chat: the watch for other processes' events ended: %s", err)

    async def close(self) -> None:
        if self._watcher is not None:
            self._watcher.cancel()
            await asyncio.gather(self._watcher, return_exceptions=True)
            self._watcher = None
        await super().close()

    async def open(self) -> None:
        self._db = await open_sqlite(self.path, SCHEMA + INVITES)
        self._db.row_factory = aiosqlite.Row
        await self._migrate()
        for cid, name, topic in DEFAULT_CHANNELS:
            await self._db.execute(
                "INSERT OR IGNORE INTO channels(id, name, topic, created_at) VALUES (?,?,?,?)",
                (cid, name, topic, time.time()),
            )
        await self._db.commit()

    async def _migrate(self) -> None:
        """Add columns newer code needs to a database an older version created.

        Another process opening the same file may add the column first: that is success too.
        """
        columns = {r["name"] for r in await self.db.execute_fetchall("PRAGMA table_info(messages)")}
        if "files" not in columns:
            try:
                await self.db.execute("ALTER TABLE messages ADD COLUMN files TEXT NOT NULL DEFAULT '[]'")
            except sqlite3.OperationalError as err:
                if "duplicate column name" not in str(err):
                    raise

    # ---- channels ----------------------------------------------------------------

    async def channels(self) -> list[dict[str, Any]]:
        rows = await self.db.execute_fetchall(
            "SELECT id, name, topic, created_at FROM channels ORDER BY created_at, id"
        )
        return [dict(r) for r in rows]

    async def channel_exists(self, channel: str) -> bool:
        rows = await self.db.execute_fetchall("SELECT 1 FROM channels WHERE id = ?", (channel,))
        return bool(rows)

    async def ensure_channel(self, channel: str, topic: str = "") -> None:
        async with self.transaction() as db:
            cur = await db.execute(
                "INSERT OR IGNORE INTO channels(id, name, topic, created_at) VALUES (?,?,?,?)",
                (channel, channel, topic, time.time()),
            )
        if cur.rowcount:
            self._notify()

    async def create_channel(self, name: str, topic: str = "") -> dict[str, Any]:
        for cid in channel_candidates(name):
            async with self.transaction() as db:
                cur = await db.execute(
                    "INSERT OR IGNORE INTO channels(id, name, topic, created_at) VALUES (?,?,?,?)",
                    (cid, cid, topic, time.time()),
                )
            if cur.rowcount:
                self._notify()
                return {"id": cid, "name": cid, "topic": topic}
        raise RuntimeError(f"no free channel name for {name!r}")

    async def set_topic(self, channel: str, topic: str) -> bool:
        async with self.transaction() as db:
            cur = await db.execute("UPDATE channels SET topic = ? WHERE id = ?", (topic, channel))
        if cur.rowcount:
            self._notify()
        return bool(cur.rowcount)

    # ---- messages ----------------------------------------------------------------

    async def add_message(
        self,
        *,
        channel: str,
        thread: str | None,
        user: str,
        text: str,
        is_bot: bool = False,
        blocks: list[dict[str, Any]] | None = None,
        message_id: str | None = None,
        idempotency_key: str | None = None,
        files: list[dict[str, Any]] | None = None,
        handover: str | None = None,
    ) -> dict[str, Any]:
        if idempotency_key:
            existing = await self._by_idempotency_key(idempotency_key)
            if existing is not None:
                return existing
        mid = message_id or new_id()
        row = {
            "id": mid,
            "channel": channel,
            "thread": thread or mid,
            "user": user,
            "is_bot": is_bot,
            "text": text,
            "blocks": blocks or [],
            "files": files or [],
            "ts": time.time(),
        }
        try:
            async with self.transaction() as db:
                await db.execute(
                    "INSERT INTO messages(id, channel, thread, user, is_bot, text, blocks, files, ts, idempotency_key)"
                    " VALUES (?,?,?,?,?,?,?,?,?,?)",
                    (
                        mid,
                        channel,
                        row["thread"],
                        user,
                        int(is_bot),
                        text,
                        json.dumps(blocks or []),
                        json.dumps(files or []),
                        row["ts"],
                        idempotency_key,
                    ),
                )
                await db.execute("INSERT INTO events(kind, message_id) VALUES ('new', ?)", (mid,))
                if handover is not None:
                    await db.execute(
                        "INSERT OR IGNORE INTO handover(message_id, body, stored_at) VALUES (?,?,?)",
                        (mid, handover, row["ts"]),
                    )
        except aiosqlite.IntegrityError:  # rolled back: the same id or idempotency key is stored already
            existing = (
                await self._by_idempotency_key(idempotency_key) if idempotency_key else await self.get_message(mid)
            )
            if existing is None:
                raise
            return existing
        self._notify()
        return row

    async def update_message(self, message_id: str, text: str, blocks: list[dict[str, Any]]) -> dict[str, Any] | None:
        async with self.transaction() as db:
            cur = await db.execute(
                "UPDATE messages SET text = ?, blocks = ? WHERE id = ?", (text, json.dumps(blocks), message_id)
            )
            if cur.rowcount:
                await db.execute("INSERT INTO events(kind, message_id) VALUES ('update', ?)", (message_id,))
        if not cur.rowcount:
            return None
        self._notify()
        return await self.get_message(message_id)

    async def handed_over(self, message_id: str) -> None:
        async with self.transaction() as db:
            await db.execute("DELETE FROM handover WHERE message_id = ?", (message_id,))

    async def take_unhanded(self, older_than: float, limit: int) -> list[Handover]:
        now = time.time()
        async with self.transaction() as db:
            await db.execute("BEGIN IMMEDIATE")  # the write lock first: two gateways never take the same message
            rows = await db.execute_fetchall(
                "SELECT message_id, body, replays FROM handover WHERE stored_at < ? ORDER BY stored_at LIMIT ?",
                (now - older_than, limit),
            )
            due = [Handover(r["message_id"], r["body"], r["replays"] + 1) for r in rows]
            await db.executemany(
                "UPDATE handover SET stored_at = ?, replays = ? WHERE message_id = ?",
                [(now, h.replays, h.message_id) for h in due],
            )
        return due

    async def _by_idempotency_key(self, key: str) -> dict[str, Any] | None:
        row = await fetch_one(self.db, "SELECT * FROM messages WHERE idempotency_key = ?", (key,))
        return _message(row) if row is not None else None

    async def get_message(self, message_id: str) -> dict[str, Any] | None:
        row = await fetch_one(self.db, "SELECT * FROM messages WHERE id = ?", (message_id,))
        return _message(row) if row is not None else None

    async def messages(self, channel: str, thread: str | None = None) -> list[dict[str, Any]]:
        if thread is None:
            rows = await self.db.execute_fetchall(
                "SELECT * FROM messages WHERE channel = ? ORDER BY ts, rowid", (channel,)
            )
        else:
            rows = await self.db.execute_fetchall(
                "SELECT * FROM messages WHERE channel = ? AND thread = ? ORDER BY ts, rowid", (channel, thread)
            )
        return [_message(r) for r in rows]

    async def last_event_seq(self) -> int:
        row = await fetch_one(self.db, "SELECT COALESCE(MAX(seq), 0) AS seq FROM events")
        return int(row["seq"]) if row is not None else 0

    async def events_after(self, seq: int, limit: int = 200) -> list[tuple[int, str, dict[str, Any]]]:
        rows = await self.db.execute_fetchall(
            "SELECT e.seq AS seq, e.kind AS kind, m.* FROM events e JOIN messages m ON m.id = e.message_id "
            "WHERE e.seq > ? ORDER BY e.seq LIMIT ?",
            (seq, limit),
        )
        return [(int(r["seq"]), r["kind"], _message(r)) for r in rows]

    # ---- invites ----------------------------------------------------------------

    async def add_invite(self, token_hash: str, name: str, created_at: float, expires_at: float) -> None:
        async with self.transaction() as db:
            await db.execute(
                "INSERT INTO invites(token_hash, name, created_at, expires_at) VALUES (?,?,?,?)",
                (token_hash, name, created_at, expires_at),
            )

    async def redeem_invite(self, token_hash: str, now: float) -> tuple[bool, InviteRow | None]:
        async with self.transaction() as db:
            cur = await db.execute(
                "UPDATE invites SET used_at = ? WHERE token_hash = ? AND used_at IS NULL AND expires_at > ?",
                (now, token_hash, now),
            )
        found = await fetch_one(
            self.db, "SELECT name, expires_at, used_at FROM invites WHERE token_hash = ?", (token_hash,)
        )
        row = InviteRow(found["name"], found["expires_at"], found["used_at"]) if found is not None else None
        return cur.rowcount == 1 and row is not None, row

    async def revoke_member(self, name: str, now: float) -> int:
        async with self.transaction() as db:
            cur = await db.execute("DELETE FROM invites WHERE name = ? AND used_at IS NULL", (name,))
            await db.execute(
                "INSERT INTO revocations(name, revoked_at) VALUES (?, ?)"
                " ON CONFLICT(name) DO UPDATE SET revoked_at = excluded.revoked_at",
                (name, now),
            )
        return cur.rowcount

    async def revocations(self) -> dict[str, float]:
        rows = await self.db.execute_fetchall("SELECT name, revoked_at FROM revocations")
        return {r["name"]: float(r["revoked_at"]) for r in rows}


def _message(row: aiosqlite.Row) -> dict[str, Any]:
    return {
        "id": row["id"],
        "channel": row["channel"],
        "thread": row["thread"],
        "user": row["user"],
        "is_bot": bool(row["is_bot"]),
        "text": row["text"],
        "blocks": json.loads(row["blocks"] or "[]"),
        "files": json.loads(row["files"] or "[]"),
        "ts": row["ts"],
    }
