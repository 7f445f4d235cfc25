"""The web chat store in PostgreSQL (THREADWORK_DATABASE_URL): any gateway serves any browser.

Events are numbered by a sequence; inserts into ``webchat_events`` take a transaction
advisory lock first, so they commit in ``seq`` order and a stream that has read up to
``seq`` cannot miss a smaller number committed later. Each event transaction also sends
``NOTIFY webchat_events``, which wakes every gateway's streams at once (they still
re-read at least every second, so a lost listener connection only slows them down).
"""

from __future__ import annotations

import logging
import time
from typing import Any

import asyncpg

from adapters.storage.postgres import OUTAGES, Conn, PostgresDatabase, outages_as_unavailable
from adapters.webchat.store import DEFAULT_CHANNELS, Handover, InviteRow, WebChatStore, channel_candidates, new_id

log = logging.getLogger(__name__)
CHANNEL = "webchat_events"
#: pg_advisory_xact_lock key that orders event inserts ("webchatv").
EVENTS_LOCK = 0x7765626368617476
_COLUMNS = "id, channel, thread, author, is_bot, text, blocks, files, ts"


@outages_as_unavailable
class PostgresWebChatStore(WebChatStore):
    def __init__(self, database: PostgresDatabase) -> None:
        super().__init__()
        self.database = database
        self._listen_failing = False  # warned once per outage, not once per stream and second

    async def open(self) -> None:
        await self.database.open()
        now = time.time()
        async with self.database.pool.acquire() as conn:
            await conn.executemany(
                "INSERT INTO webchat_channels(id, name, topic, created_at) VALUES ($1,$2,$3,$4) ON CONFLICT DO NOTHING",
                [(cid, name, topic, now) for cid, name, topic in DEFAULT_CHANNELS],
            )

    async def _before_wait(self) -> None:
        """LISTEN from the first stream on (gateways only: workers and the CLI never open the extra
        connection), and again after the listening connection was lost."""
        if not self.database.is_listening(CHANNEL):
            try:
                await self.database.listen(CHANNEL, lambda _payload: self._notify())
            except OUTAGES as err:  # streams still re-read every `timeout`; the next wait tries again
                if not self._listen_failing:
                    log.warning("web chat: cannot LISTEN for %s (%s); streams poll until it works", CHANNEL, err)
                self._listen_failing = True
            else:
                self._listen_failing = False

    async def close(self) -> None:
        """The database is shared with the other stores; its owner closes it."""

    @property
    def pool(self) -> asyncpg.Pool:
        return self.database.pool

    async def _event(self, conn: Conn, kind: str, message_id: str) -> None:
        await conn.execute("SELECT pg_advisory_xact_lock($1)", EVENTS_LOCK)
        seq = await conn.fetchval(
            "INSERT INTO webchat_events(kind, message_id) VALUES ($1, $2) RETURNING seq", kind, message_id
        )
        await conn.execute("SELECT pg_notify($1, $2)", CHANNEL, str(seq))

    # ---- channels ----

    async def channels(self) -> list[dict[str, Any]]:
        rows = await self.pool.fetch("SELECT id, name, topic, created_at FROM webchat_channels ORDER BY created_at, id")
        return [dict(r) for r in rows]

    async def channel_exists(self, channel: str) -> bool:
        return bool(await self.pool.fetchval("SELECT 1 FROM webchat_channels WHERE id = $1", channel))

    async def ensure_channel(self, channel: str, topic: str = "") -> None:
        status = await self.pool.execute(
            "INSERT INTO webchat_channels(id, name, topic, created_at) VALUES ($1,$1,$2,$3) ON CONFLICT DO NOTHING",
            channel,
            topic,
            time.time(),
        )
        if status.endswith(" 1"):
            self._notify()

    async def create_channel(self, name: str, topic: str = "") -> dict[str, Any]:
        for cid in channel_candidates(name):
            status = await self.pool.execute(
                "INSERT INTO webchat_channels(id, name, topic, created_at) VALUES ($1,$1,$2,$3) ON CONFLICT DO NOTHING",
                cid,
                topic,
                time.time(),
            )
            if status.endswith(" 1"):
                self._notify()
                return {"id": cid, "name": cid, "topic": topic}
        raise RuntimeError(f"no free channel name for {name!r}")

    async def set_topic(self, channel: str, topic: str) -> bool:
        status = await self.pool.execute("UPDATE webchat_channels SET topic = $1 WHERE id = $2", topic, channel)
        if status.endswith(" 1"):
            self._notify()
        return status.endswith(" 1")

    # ---- messages ----

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
        async with self.pool.acquire() as conn, conn.transaction():
            inserted = await conn.fetchval(
                "INSERT INTO webchat_messages(id, channel, thread, author, is_bot, text, blocks, files, ts, idempotency_key)"
                " VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10) ON CONFLICT DO NOTHING RETURNING id",
                mid,
                channel,
                row["thread"],
                user,
                is_bot,
                text,
                row["blocks"],
                row["files"],
                row["ts"],
                idempotency_key,
            )
            if inserted is not None:
                await self._event(conn, "new", mid)
                if handover is not None:
                    await conn.execute(
                        "INSERT INTO webchat_handover(message_id, body, stored_at) VALUES ($1,$2,$3)"
                        " ON CONFLICT DO NOTHING",
                        mid,
                        handover,
                        row["ts"],
                    )
        if inserted is None:
            existing = await self._by_idempotency_key(idempotency_key) if idempotency_key else None
            existing = existing or await self.get_message(mid)
            if existing is None:
                raise RuntimeError(f"message {mid} conflicted with a row that is gone")
            return existing
        self._notify()
        return row

    async def update_message(self, message_id: str, text: str, blocks: list[dict[str, Any]]) -> dict[str, Any] | None:
        async with self.pool.acquire() as conn, conn.transaction():
            status = await conn.execute(
                "UPDATE webchat_messages SET text = $1, blocks = $2 WHERE id = $3", text, blocks, message_id
            )
            if status.endswith(" 0"):
                return None
            await self._event(conn, "update", message_id)
        self._notify()
        return await self.get_message(message_id)

    async def handed_over(self, message_id: str) -> None:
        await self.pool.execute("DELETE FROM webchat_handover WHERE message_id = $1", message_id)

    async def take_unhanded(self, older_than: float, limit: int) -> list[Handover]:
        now = time.time()
        async with self.pool.acquire() as conn, conn.transaction():
            rows = await conn.fetch(
                "SELECT message_id, body, replays FROM webchat_handover WHERE stored_at < $1"
                " ORDER BY stored_at LIMIT $2 FOR UPDATE SKIP LOCKED",
                now - older_than,
                limit,
            )
            due = [Handover(r["message_id"], r["body"], r["replays"] + 1) for r in rows]
            await conn.executemany(
                "UPDATE webchat_handover SET stored_at = $1, replays = $2 WHERE message_id = $3",
                [(now, h.replays, h.message_id) for h in due],
            )
        return due

    async def _by_idempotency_key(self, key: str) -> dict[str, Any] | None:
        row = await self.pool.fetchrow(f"SELECT {_COLUMNS} FROM webchat_messages WHERE idempotency_key = $1", key)
        return _message(row) if row else None

    async def get_message(self, message_id: str) -> dict[str, Any] | None:
        row = await self.pool.fetchrow(f"SELECT {_COLUMNS} FROM webchat_messages WHERE id = $1", message_id)
        return _message(row) if row else None

    async def messages(self, channel: str, thread: str | None = None) -> list[dict[str, Any]]:
        if thread is None:
            rows = await self.pool.fetch(
                f"SELECT {_COLUMNS} FROM webchat_messages WHERE channel = $1 ORDER BY ts, n", channel
            )
        else:
            rows = await self.pool.fetch(
                f"SELECT {_COLUMNS} FROM webchat_messages WHERE channel = $1 AND thread = $2 ORDER BY ts, n",
                channel,
                thread,
            )
        return [_message(r) for r in rows]

    async def last_event_seq(self) -> int:
        return int(await self.pool.fetchval("SELECT COALESCE(MAX(seq), 0) FROM webchat_events"))

    async def events_after(self, seq: int, limit: int = 200) -> list[tuple[int, str, dict[str, Any]]]:
        rows = await self.pool.fetch(
            "SELECT e.seq AS seq, e.kind AS kind, m.id, m.channel, m.thread, m.author, m.is_bot, m.text, m.blocks, m.files, m.ts"
            " FROM webchat_events e JOIN webchat_messages m ON m.id = e.message_id WHERE e.seq > $1 ORDER BY e.seq LIMIT $2",
            seq,
            limit,
        )
        return [(int(r["seq"]), r["kind"], _message(r)) for r in rows]

    # ---- invites ----

    async def add_invite(self, token_hash: str, name: str, created_at: float, expires_at: float) -> None:
        await self.pool.execute(
            "INSERT INTO webchat_invites(token_hash, name, created_at, expires_at) VALUES ($1,$2,$3,$4)",
            token_hash,
            name,
            created_at,
            expires_at,
        )

    async def redeem_invite(self, token_hash: str, now: float) -> tuple[bool, InviteRow | None]:
        status = await self.pool.execute(
            "UPDATE webchat_invites SET used_at = $1 WHERE token_hash = $2 AND used_at IS NULL AND expires_at > $1",
            now,
            token_hash,
        )
        row = await self.pool.fetchrow(
            "SELECT name, expires_at, used_at FROM webchat_invites WHERE token_hash = $1", token_hash
        )
        found = InviteRow(row["name"], row["expires_at"], row["used_at"]) if row else None
        return status.endswith(" 1") and found is not None, found

    async def revoke_member(self, name: str, now: float) -> int:
        async with self.pool.acquire() as conn, conn.transaction():
            status = await conn.execute("DELETE FROM webchat_invites WHERE name = $1 AND used_at IS NULL", name)
            await conn.execute(
                "INSERT INTO webchat_revocations(name, revoked_at) VALUES ($1, $2)"
                " ON CONFLICT (name) DO UPDATE SET revoked_at = EXCLUDED.revoked_at",
                name,
                now,
            )
        return int(status.rsplit(" ", 1)[1])

    async def revocations(self) -> dict[str, float]:
        rows = await self.pool.fetch("SELECT name, revoked_at FROM webchat_revocations")
        return {r["name"]: float(r["revoked_at"]) for r in rows}


def _message(row: asyncpg.Record) -> dict[str, Any]:
    return {
        "id": row["id"],
        "channel": row["channel"],
        "thread": row["thread"],
        "user": row["author"],
        "is_bot": row["is_bot"],
        "text": row["text"],
        "blocks": row["blocks"],
        "files": row["files"],
        "ts": row["ts"],
    }
