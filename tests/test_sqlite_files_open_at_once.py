"""Gateway and worker set up the same fresh SQLite files at once (production shape, one host).

CI once lost a gateway to "database is locked" from ``PRAGMA journal_mode=WAL`` on the
Slack posted log while the worker set the same file up.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from adapters.posted_log import SqlitePostedLog
from adapters.webchat.store_sqlite import SqliteWebChatStore
from bots.inbound_queue import SQLiteInboundQueue

OPENERS: dict[str, Callable[[Path], Any]] = {"posted log": SqlitePostedLog, "inbound queue": SQLiteInboundQueue}


@pytest.mark.parametrize("kind", OPENERS)
async def test_four_openers_of_one_fresh_file_all_succeed(tmp_path: Path, kind: str):
    for round_ in range(10):
        path = tmp_path / f"round{round_}" / "file.sqlite3"
        opened = [OPENERS[kind](path) for _ in range(4)]
        results = await asyncio.gather(*(o.open() for o in opened), return_exceptions=True)
        try:
            assert [r for r in results if isinstance(r, BaseException)] == []
        finally:
            for o in opened:
                await o.close()


async def test_a_write_that_fails_half_way_leaves_the_file_writable_for_others(tmp_path: Path):
    """A failed statement inside a write must not keep the file's write lock (that locked out every other process)."""
    path = tmp_path / "posted.sqlite3"
    a, b = SqlitePostedLog(path), SqlitePostedLog(path)
    await a.open()
    await b.open()
    try:

        async def half_a_write() -> None:
            async with a.transaction() as db:
                await db.execute("INSERT INTO posted (idempotency_key, value, created_at) VALUES ('half', '{}', 0)")
                raise RuntimeError("the second statement of this write failed")

        with pytest.raises(RuntimeError):
            await half_a_write()
        await asyncio.wait_for(b.put("other", {"ts": "1"}), 5)  # a held lock would make this wait 10 s, then fail
        assert await a.get("half") is None and await a.get("other") == {"ts": "1"}
    finally:
        await a.close()
        await b.close()


async def test_reads_and_writes_of_two_processes_on_one_store_never_see_locked(tmp_path: Path):
    """Gateway and worker read and write one web chat file at once (CI lost a burst message to this).

    A read that kept its statement open across an await held an old snapshot, and a write queued
    on the same connection in that window could not upgrade it once the other process had
    committed: SQLite answers "database is locked" at once then, without waiting.
    """
    path = tmp_path / "webchat.sqlite3"
    gateway, worker = SqliteWebChatStore(path), SqliteWebChatStore(path)
    await gateway.open()
    await worker.open()
    try:

        async def traffic(store: SqliteWebChatStore, who: str) -> None:
            for i in range(150):
                row = await store.add_message(
                    channel="general", thread=None, user=who, text=f"{who} {i}", idempotency_key=f"{who}-{i}"
                )
                await asyncio.gather(
                    store.get_message(row["id"]),
                    store.add_message(channel="general", thread=row["thread"], user=who, text="reply"),
                    store.last_event_seq(),
                    store.add_message(
                        channel="general", thread=None, user=who, text="again", idempotency_key=f"{who}-{i}"
                    ),
                )

        await asyncio.wait_for(asyncio.gather(*(traffic(s, w) for s, w in ((gateway, "gw"), (worker, "wk")))), 120)
        assert len(await gateway.messages("general")) == 2 * 150 * 2
    finally:
        await gateway.close()
        await worker.close()
