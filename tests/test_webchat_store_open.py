"""Gateway and worker open the same web chat SQLite file at once (production shape, one host)."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest

from adapters.webchat.store_sqlite import SqliteWebChatStore

#: The messages table as the first release created it (before uploads added ``files``).
OLD_SCHEMA = """CREATE TABLE messages (
    id TEXT PRIMARY KEY, channel TEXT NOT NULL, thread TEXT NOT NULL, user TEXT NOT NULL,
    is_bot INTEGER NOT NULL, text TEXT NOT NULL, blocks TEXT NOT NULL DEFAULT '[]',
    ts REAL NOT NULL, idempotency_key TEXT UNIQUE
);"""


@pytest.mark.parametrize("existing", ["none", "older"])
async def test_processes_opening_one_file_at_once_all_succeed(tmp_path: Path, existing: str):
    for round_ in range(10):
        path = tmp_path / f"round{round_}" / "webchat.sqlite3"
        path.parent.mkdir()
        if existing == "older":
            with sqlite3.connect(path) as con:
                con.executescript(OLD_SCHEMA)
        stores = [SqliteWebChatStore(path) for _ in range(4)]
        await asyncio.gather(*(store.open() for store in stores))
        try:
            stored = await stores[0].add_message(
                channel="general", thread=None, user="ada", text="hi", files=[{"name": "a.txt"}]
            )
            assert (await stores[3].get_message(stored["id"]))["files"] == [{"name": "a.txt"}]
        finally:
            for store in stores:
                await store.close()
