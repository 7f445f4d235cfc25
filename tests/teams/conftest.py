"""Fixtures for the Teams adapter tests: a fake Bot Connector and a stack that serves Teams."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest_asyncio

from tests.support.stack import Stack, running_stack
from tests.teams.fake_connector import FakeConnector, start_connector


@pytest_asyncio.fixture
async def connector() -> AsyncIterator[FakeConnector]:
    fake, runner = await start_connector()
    fake.members["29:alice"] = {"id": "29:alice", "name": "Alice Example", "userRole": "user"}
    fake.members["29:bob"] = {"id": "29:bob", "name": "Bob Responder", "userRole": "user"}
    fake.members["29:gus"] = {"id": "29:gus", "name": "Gus Guest", "userRole": "guest"}
    try:
        yield fake
    finally:
        await runner.cleanup()


@pytest_asyncio.fixture
async def teams(client, tmp_path, connector) -> AsyncIterator[Stack]:
    """A stack with the Teams adapter in anonymous mode (no TEAMS_APP_ID)."""
    async with running_stack(client, tmp_path, teams_enabled=True, teams_service_url=connector.url) as stack:
        yield stack


async def send(stack: Stack, body: dict, **headers: str) -> httpx.Response:
    return await stack.http.post("/api/messages", json=body, headers=headers)
