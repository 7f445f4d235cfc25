"""Message events kept from before bolt's acknowledgement until their listener ends, and replayed
by any gateway when a dead one left them (the why: adapters/slack/received_journal.py)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import socket
import sqlite3
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from adapters.slack.received_journal import ReceivedJournal
from adapters.storage import StoreUnavailable

log = logging.getLogger(__name__)

#: Event types whose listener hands a message to a session (adapters/slack/app.py ``_on_message``).
JOURNALED = ("message", "app_mention")
#: How many due events one replay round takes.
REPLAY_BATCH = 50
STORE_ERRORS = (sqlite3.Error, OSError, StoreUnavailable)


def _event_id(body: dict[str, Any]) -> str | None:
    if body.get("type") != "event_callback" or (body.get("event") or {}).get("type") not in JOURNALED:
        return None
    event_id = body.get("event_id")
    return event_id if isinstance(event_id, str) and event_id else None


class ReceivedEvents:
    def __init__(self, journal: ReceivedJournal, replay_after: float = 30.0, poll_seconds: float | None = None) -> None:
        self.journal = journal
        self.replay_after = replay_after
        self.poll_seconds = poll_seconds if poll_seconds is not None else max(0.5, min(replay_after / 2, 15.0))
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._replayer: asyncio.Task[None] | None = None

    async def middleware(self, body: dict[str, Any], next: Callable[[], Awaitable[Any]]) -> Any:
        """A bolt middleware: runs before the acknowledgement, so the event is kept before Slack hears "got it"."""
        event_id = _event_id(body)
        if event_id is not None:
            try:
                await self.journal.put(event_id, json.dumps(body), self.owner)
            except STORE_ERRORS as err:  # no worse than before the journal: handle it now, unprotected
                log.warning("could not keep Slack event %s before acknowledging it: %s", event_id, err)
        return await next()

    async def done(self, body: dict[str, Any]) -> None:
        """The listener is finished with this event (queued, answered or ignored on purpose)."""
        event_id = _event_id(body)
        if event_id is None:
            return
        try:
            await self.journal.done(event_id)
        except STORE_ERRORS as err:  # it will be replayed; the queue and Temporal dedupe the message
            log.warning("could not clear Slack event %s from the journal: %s", event_id, err)

    # ---- replays (the gateway's lifetime) ---------------------------------------------

    async def start(self, replay: Callable[[str], Awaitable[None]]) -> None:
        await self.journal.open()
        self._replayer = asyncio.create_task(self._replay_forever(replay), name="slack-received-replayer")

    async def close(self) -> None:
        if self._replayer is not None:
            self._replayer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._replayer
            self._replayer = None
        await self.journal.close()

    async def replay_due(self, replay: Callable[[str], Awaitable[None]]) -> int:
        """One round: hand each event left longer than ``replay_after`` to bolt again."""
        due, dropped = await self.journal.take_due(self.owner, self.replay_after, REPLAY_BATCH)
        for gone in dropped:
            log.warning(
                "Slack event %s was replayed %d times without its listener finishing; dropped",
                gone.event_id,
                gone.replays - 1,
            )
        for event in due:
            log.info(
                "replaying Slack event %s, left unfinished by a gateway that stopped (replay %d)",
                event.event_id,
                event.replays,
            )
            try:
                await replay(event.body)
            except Exception:  # a bug in one event must not stop the others
                log.exception("replaying Slack event %s failed", event.event_id)
        return len(due)

    async def _replay_forever(self, replay: Callable[[str], Awaitable[None]]) -> None:
        while True:
            try:
                await self.replay_due(replay)
            except STORE_ERRORS as err:
                log.warning("could not read the Slack received-events journal: %s", err)
            await asyncio.sleep(self.poll_seconds)
