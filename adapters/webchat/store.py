"""SQLite storage of web chat channels and messages, shared by gateway and worker.

Every insert or edit appends a row to ``events``; the live stream tails that table,
so a worker in another process (same data dir) reaches browsers too. Bot posts carry
an idempotency key, so an activity retried after a crash cannot post twice.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
import uuid
from pathlib import Path
from typing import Any

import aiosqlite

SCHEMA = """
PRAGMA journal_mode=WAL;
CREATE TABLE IF NOT EXISTS channels (
    id TEXT PRIMARY KEY, name TEXT NOT NULL, topic TEXT NOT NULL DEFAULT '', created_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS messages (
    id TEXT PRIMARY KEY, channel TEXT NOT NULL, thread TEXT NOT NULL, user TEXT NOT NULL,
    is_bot INTEGER NOT NULL, text TEXT NOT NULL, blocks TEXT NOT NULL DEFAULT '[]',
    ts REAL NOT NULL, idempotency_key TEXT UNIQUE
);
CREATE INDEX IF NOT EXISTS messages_by_thread ON messages(channel, thread, ts);
CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT NOT NULL, message_id TEXT NOT NULL
);
"""

DEFAULT_CHANNELS = [("general", "general", "Talk to threadwork here"), ("incidents", "incidents", "Incident channels are announced here")]
_SLUG = re.compile(r"[^a-z0-9_-]+")


def new_id() -> str:
    return uuid.uuid4().hex[:16]


def slug(name: str) -> str:
    return _SLUG.sub("-", name.lower()).strip("-")[:80] or "channel"


class WebChatStore:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._db: aiosqlite.Connection | None = None
        self._changed = asyncio.Event()

    async def open(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = await aiosqlite.connect(self.path, timeout=10)
        self._db.row_factory = aiosqlite.Row
        await self._db.executescript(SCHEMA)
        await self._migrate()
        for cid, name, topic in DEFAULT_CHANNELS:
            await self._db.execute(
                "INSERT OR IGNORE INTO channels(id, name, topic, created_at) VALUES (?,?,?,?)",
                (cid, name, topic, time.time()),
            )
        await self._db.commit()

    async def _migrate(self) -> None:
        """Add columns newer code needs to a database an older version created."""
        columns = {r["name"] for r in await self._db.execute_fetchall("PRAGMA table_info(messages)")}
        if "files" not in columns:
            await self._db.execute("ALTER TABLE messages ADD COLUMN files TEXT NOT NULL DEFAULT '[]'")

    async def close(self) -> None:
        if self._db is not None:
            await self._db.close()
            self._db = None

    @property
    def db(self) -> aiosqlite.Connection:
        if self._db is None:
            raise RuntimeError("WebChatStore.open() was not called")
        return self._db

    def _notify(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    async def wait_for_change(self, timeout: float) -> None:
        """Wake on a local change, or after ``timeout`` (to see other processes' writes)."""
        try:
            await asyncio.wait_for(self._changed.wait(), timeout)
        except asyncio.TimeoutError:
            pass

    # ---- channels ----------------------------------------------------------------

    async def channels(self) -> list[dict[str, Any]]:
        rows = await self.db.execute_fetchall("SELECT id, name, topic, created_at FROM channels ORDER BY created_at, id")
        return [dict(r) for r in rows]

    async def channel_exists(self, channel: str) -> bool:
        rows = await self.db.execute_fetchall("SELECT 1 FROM channels WHERE id = ?", (channel,))
        return bool(rows)

    async def ensure_channel(self, channel: str, topic: str = "") -> None:
        """Make sure a channel with exactly this id exists (configured channels such as the events channel)."""
        cur = await self.db.execute(
            "INSERT OR IGNORE INTO channels(id, name, topic, created_at) VALUES (?,?,?,?)",
            (channel, channel, topic, time.time()),
        )
        await self.db.commit()
        if cur.rowcount:
            self._notify()

    async def create_channel(self, name: str, topic: str = "") -> dict[str, Any]:
        """Create a channel named like ``name``; a taken name gets a numeric suffix."""
        base = slug(name)
        for n in range(1, 1000):
            cid = base if n == 1 else f"{base[:76]}-{n}"
            cur = await self.db.execute(
                "INSERT OR IGNORE INTO channels(id, name, topic, created_at) VALUES (?,?,?,?)",
                (cid, cid, topic, time.time()),
            )
            if cur.rowcount:
                await self.db.commit()
                self._notify()
                return {"id": cid, "name": cid, "topic": topic}
        raise RuntimeError(f"no free channel name for {name!r}")

    async def set_topic(self, channel: str, topic: str) -> bool:
        """Replace a channel's topic; False when there is no such channel."""
        cur = await self.db.execute("UPDATE channels SET topic = ? WHERE id = ?", (topic, channel))
        await self.db.commit()
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
    ) -> dict[str, Any]:
        """Insert a message (a new thread when ``thread`` is None); an idempotency key seen before returns the earlier message."""
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
            await self.db.execute(
                "INSERT INTO messages(id, channel, thread, user, is_bot, text, blocks, files, ts, idempotency_key)"
                " VALUES (?,?,?,?,?,?,?,?,?,?)",
                (mid, channel, row["thread"], user, int(is_bot), text, json.dumps(blocks or []), json.dumps(files or []),
                 row["ts"], idempotency_key),
            )
        except aiosqlite.IntegrityError:
            await self.db.rollback()
            existing = await self._by_idempotency_key(idempotency_key) if idempotency_key else await self.get_message(mid)
            if existing is None:
                raise
            return existing
        await self.db.execute("INSERT INTO events(kind, message_id) VALUES ('new', ?)", (mid,))
        await self.db.commit()
        self._notify()
        return row

    async def update_message(self, message_id: str, text: str, blocks: list[dict[str, Any]]) -> dict[str, Any] | None:
        cur = await self.db.execute(
            "UPDATE messages SET text = ?, blocks = ? WHERE id = ?", (text, json.dumps(blocks), message_id)
        )
        if not cur.rowcount:
            await self.db.commit()
            return None
        await self.db.execute("INSERT INTO events(kind, message_id) VALUES ('update', ?)", (message_id,))
        await self.db.commit()
        self._notify()
        return await self.get_message(message_id)

    async def _by_idempotency_key(self, key: str) -> dict[str, Any] | None:
        rows = await self.db.execute_fetchall("SELECT * FROM messages WHERE idempotency_key = ?", (key,))
        return _message(rows[0]) if rows else None

    async def get_message(self, message_id: str) -> dict[str, Any] | None:
        rows = await self.db.execute_fetchall("SELECT * FROM messages WHERE id = ?", (message_id,))
        return _message(rows[0]) if rows else None

    async def messages(self, channel: str, thread: str | None = None) -> list[dict[str, Any]]:
        if thread is None:
            rows = await self.db.execute_fetchall("SELECT * FROM messages WHERE channel = ? ORDER BY ts, rowid", (channel,))
        else:
            rows = await self.db.execute_fetchall(
                "SELECT * FROM messages WHERE channel = ? AND thread = ? ORDER BY ts, rowid", (channel, thread)
            )
        return [_message(r) for r in rows]

    async def last_event_seq(self) -> int:
        rows = await self.db.execute_fetchall("SELECT COALESCE(MAX(seq), 0) AS seq FROM events")
        return int(rows[0]["seq"])

    async def events_after(self, seq: int, limit: int = 200) -> list[tuple[int, str, dict[str, Any]]]:
        rows = await self.db.execute_fetchall(
            "SELECT e.seq AS seq, e.kind AS kind, m.* FROM events e JOIN messages m ON m.id = e.message_id "
            "WHERE e.seq > ? ORDER BY e.seq LIMIT ?",
            (seq, limit),
        )
        return [(int(r["seq"]), r["kind"], _message(r)) for r in rows]


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
