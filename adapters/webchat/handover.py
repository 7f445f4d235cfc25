"""Web chat messages stored but never handed to the inbound queue: handed over by any gateway.

The web chat stores a user's message before it hands it to the gateway's inbound queue,
so nothing typed is lost while Temporal is down. A gateway killed between the two would
leave a visible message that no session ever sees. So the store keeps a hand-over row
with the message, written in the same transaction as the message itself, and cleared
once the queue (or the session) has it. Every gateway hands over what is left for longer
than ``THREADWORK_WEBCHAT_REPLAY_AFTER`` seconds. A repeat is harmless when the first
gateway got further than it looked: the queue and Temporal dedupe by message id.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from pydantic import ValidationError

from adapters.webchat.answers import STORE_ERRORS, hand_over
from adapters.webchat.store import WebChatStore
from workflows.contracts import ChatMessage
from workflows.platform_port import SessionDispatcher

log = logging.getLogger(__name__)

#: How many stored messages one round takes.
BATCH = 50


class Handovers:
    """The gateway's loop that hands over messages a stopped gateway stored but never queued."""

    def __init__(self, store: WebChatStore, dispatcher: SessionDispatcher, replay_after: float = 30.0) -> None:
        self.store = store
        self.dispatcher = dispatcher
        self.replay_after = replay_after
        self.poll_seconds = max(0.5, min(replay_after / 2, 15.0))
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._task = asyncio.create_task(self._forever(), name="webchat-handovers")

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def hand_over_due(self) -> int:
        """One round: hand over each message left for longer than ``replay_after``; how many it took."""
        due = await self.store.take_unhanded(self.replay_after, BATCH)
        for left in due:
            try:
                msg = ChatMessage.model_validate_json(left.body)
            except ValidationError as err:  # written by this code; only a newer, incompatible version could
                log.warning("web chat: stored message %s cannot be handed over (%s); dropped", left.message_id, err)
                await self.store.handed_over(left.message_id)
                continue
            log.info(
                "web chat: handing over message %s, stored by a gateway that stopped before queueing it (round %d)",
                left.message_id,
                left.replays,
            )
            try:
                result, _ = await hand_over(self.store, self.dispatcher, msg, sender_waiting=False)
            except STORE_ERRORS as err:  # taken again after replay_after
                log.warning("web chat: handing over %s failed: %s", left.message_id, err)
                continue
            except Exception:  # a bug in one message must not stop the others
                log.exception("web chat: handing over %s failed", left.message_id)
                continue
            log.info("web chat: message %s handed over: %s", left.message_id, result.status)
        return len(due)

    async def _forever(self) -> None:
        while True:
            try:
                await self.hand_over_due()
            except STORE_ERRORS as err:
                log.warning("web chat: could not read the messages waiting for a hand-over: %s", err)
            await asyncio.sleep(self.poll_seconds)
