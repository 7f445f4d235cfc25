"""A TeamsPlatform against the fake connector, driven directly (no Temporal), for the stream tests."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from botbuilder.schema import Activity

from adapters.posted_log import SqlitePostedLog
from adapters.teams.adapter import TeamsSettings
from adapters.teams.platform import TeamsPlatform
from adapters.teams.references import key_of, reference_of
from adapters.teams.wiring import build_adapter
from tests.teams.activities import activity
from tests.teams.fake_connector import FakeConnector
from workflows.contracts import Actor, ConversationKey
from workflows.stream_contracts import StopResult

#: A slow model as the issue describes it: 20 chunks, 100 ms apart.
CHUNKS = [f"word{i:02d} " for i in range(20)]
CHUNK_DELAY = 0.1
FULL_TEXT = "".join(CHUNKS).rstrip()


@dataclass
class StopCalls:
    """Stands in for SessionDispatcher.stop_turn: records who asked to stop which session."""

    calls: list[tuple[str, Actor, str]] = field(default_factory=list)

    async def __call__(self, session_id: str, actor: Actor, request_id: str = "") -> StopResult:
        self.calls.append((session_id, actor, request_id))
        return StopResult(stopped=True)


def conversation(
    connector: FakeConnector, conversation_id: str, conversation_type: str = "personal"
) -> tuple[ConversationKey, dict[str, Any]]:
    """The key and reply context of a conversation, as the adapter maps a user's message."""
    incoming = Activity().deserialize(
        activity(connector.url, conversation_id, text="hi", conversation_type=conversation_type)
    )
    return key_of(incoming), reference_of(incoming)


@contextlib.asynccontextmanager
async def teams_platform(
    connector: FakeConnector, data_dir: Path, interval: float = 0.2, *, app_id: str = "", app_password: str = ""
) -> AsyncIterator[TeamsPlatform]:
    """A worker's TeamsPlatform (anonymous mode unless given an app id); its PostedLog file outlives it,
    as it would a killed worker."""
    posted = SqlitePostedLog(data_dir / "teams-posted.sqlite3")
    await posted.open()
    settings = TeamsSettings(_env_file=None, teams_app_id=app_id, teams_app_password=app_password)
    platform = TeamsPlatform(build_adapter(settings), posted=posted, app_id=app_id or None, service_url=connector.url)
    platform.stream_interval = interval
    platform.use_dispatcher(StopCalls())
    try:
        yield platform
    finally:
        await platform.adapter.bot_framework_authentication.close()  # the connectors' HTTP session
        await posted.close()


async def feed(stream: Any, chunks: list[str], delay: float = CHUNK_DELAY) -> None:
    for chunk in chunks:
        await stream.append(chunk)
        await asyncio.sleep(delay)


async def until(what: str, check: Any, timeout: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)


async def until(what: str, check: Callable[[], object], timeout: float = 20.0) -> None:
    """Until ``check()`` is truthy; fails naming ``what`` after ``timeout`` (a bound, not a timing)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)
