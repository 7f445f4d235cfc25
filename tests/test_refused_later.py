"""A message the queue held through an outage and its session then refused: the sender is told why.

The inner dispatcher stands in for Temporal here (first unreachable, then refusing the
message), because what is under test is the queue's bookkeeping and the notice; the
refusal itself is Temporal's, covered by the fault tests.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

from adapters.base import Delivery, PlatformRegistry
from adapters.webchat.platform import WebChatPlatform
from adapters.webchat.store_sqlite import SqliteWebChatStore
from bots.inbound_queue import SQLiteInboundQueue
from bots.queued_dispatch import QueuedDispatcher, QueueOptions
from bots.refused_notice import refused_notice
from tests.support.helpers import eventually
from workflows.contracts import Actor, ChatMessage, ConversationKey, plain_links


class TemporalThatRefusesLater:
    """Unreachable for the first attempt, then refuses the message for good."""

    def __init__(self) -> None:
        self.attempts = 0

    async def deliver_once(self, msg: ChatMessage, timeout: timedelta = timedelta(seconds=1)) -> Delivery:
        self.attempts += 1
        session_id = msg.key.session_id()
        if self.attempts == 1:
            return Delivery(Delivery.UNAVAILABLE, session_id, "Temporal is unreachable")
        return Delivery(Delivery.INVALID, session_id, "this session has ended")


async def test_a_queued_message_refused_later_is_answered_with_the_reason(tmp_path: Path):
    store = SqliteWebChatStore(tmp_path / "webchat.sqlite3")
    await store.open()
    registry = PlatformRegistry()
    registry.register(WebChatPlatform(store))
    inner = TemporalThatRefusesLater()
    options = QueueOptions(first_backoff=0.05, max_backoff=0.05, poll_seconds=0.05)
    dispatcher = QueuedDispatcher(inner, SQLiteInboundQueue(tmp_path / "q.sqlite3"), options, refused_notice(registry))  # type: ignore[arg-type]
    await dispatcher.start()
    try:
        sent = await store.add_message(channel="general", thread=None, user="ada", text="deploy the fix please")
        msg = ChatMessage(
            key=ConversationKey(platform="webchat", channel="general", thread=sent["id"]),
            actor=Actor(id="ada", name="Ada"),
            text="deploy the fix please",
            message_id=sent["id"],
        )
        first = await dispatcher.deliver(msg)
        assert first.status == Delivery.QUEUED and first.notify  # "catching up" was said

        def notices(messages: list[dict]) -> list[str]:
            return [plain_links(m["text"]) for m in messages if m["is_bot"]]

        said = await eventually(
            lambda: store.messages("general", sent["id"]), lambda ms: notices(ms), what="the notice"
        )
        assert notices(said) == [
            '@Ada: I couldn\'t take your message "deploy the fix please" after all: this session has ended'
        ]
        # Refused for good: the entry leaves the queue (right after the notice), not retried forever.
        await eventually(dispatcher.stats, lambda stats: stats.depth == 0, what="the refused entry to leave the queue")
        await asyncio.sleep(0.3)
        assert inner.attempts == 2 and len(notices(await store.messages("general", sent["id"]))) == 1
    finally:
        await dispatcher.close()
        await store.close()
