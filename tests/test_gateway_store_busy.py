"""A store the gateway cannot use right now is a 503 with Retry-After, never a 500 with a traceback."""

from __future__ import annotations

import sqlite3

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from adapters.storage import StoreUnavailable
from bots.gateway import STORE_UNAVAILABLE_TEXT, store_outage


async def _client(error: Exception) -> TestClient:
    async def handler(request: web.Request) -> web.Response:
        raise error

    app = web.Application(middlewares=[store_outage])
    app.router.add_post("/webchat/api/messages", handler)
    client = TestClient(TestServer(app))
    await client.start_server()
    return client


async def test_a_busy_sqlite_file_and_an_unreachable_database_are_503s():
    for error in (sqlite3.OperationalError("database is locked"), StoreUnavailable("PostgreSQL is unreachable")):
        client = await _client(error)
        try:
            resp = await client.post("/webchat/api/messages")
            assert resp.status == 503 and resp.headers["Retry-After"] == "5"
            assert (await resp.json()) == {"error": STORE_UNAVAILABLE_TEXT}
        finally:
            await client.close()


async def test_any_other_sqlite_error_is_still_a_bug():
    client = await _client(sqlite3.OperationalError("no such table: messages"))
    try:
        assert (await client.post("/webchat/api/messages")).status == 500
    finally:
        await client.close()
