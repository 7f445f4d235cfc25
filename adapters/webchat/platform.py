"""The web chat as a ChatPlatform: bot posts become rows that browsers receive live."""

from __future__ import annotations

from typing import Any

from adapters.webchat.store import WebChatStore
from adapters.webchat.stream import BOT_USER, WebChatStream
from workflows.contracts import Actor, ConversationKey, CreatedChannel, MessageRef, Reply
from workflows.platform_port import PlatformError


class WebChatPlatform:
    name = "webchat"

    def __init__(self, store: WebChatStore) -> None:
        self.store = store

    async def post(
        self,
        key: ConversationKey,
        reply: Reply,
        *,
        idempotency_key: str | None = None,
        context: dict[str, Any] | None = None,
    ) -> MessageRef:
        if not await self.store.channel_exists(key.channel):
            raise PlatformError(f"web chat channel {key.channel!r} does not exist")
        thread = None if key.thread in (None, "main") else key.thread
        row = await self.store.add_message(
            channel=key.channel,
            thread=thread,
            user=BOT_USER,
            text=reply.text,
            is_bot=True,
            blocks=[b.model_dump() for b in reply.blocks],
            idempotency_key=idempotency_key,
        )
        return MessageRef(key=key, message_id=row["id"])

    async def open_stream(
        self,
        key: ConversationKey,
        idempotency_key: str,
        recipient: Actor | None,
        *,
        context: dict[str, Any] | None = None,
    ) -> WebChatStream:
        """A growing message row; every browser on the channel sees it over the event stream."""
        return WebChatStream(self.store, self, key, idempotency_key)

    async def update(self, ref: MessageRef, reply: Reply) -> None:
        updated = await self.store.update_message(ref.message_id, reply.text, [b.model_dump() for b in reply.blocks])
        if updated is None:
            raise PlatformError(f"web chat message {ref.message_id} does not exist")

    async def create_channel(
        self, name: str, *, topic: str = "", members: list[str] | None = None, like: ConversationKey
    ) -> CreatedChannel:
        channel = await self.store.create_channel(name, topic)
        return CreatedChannel(platform="webchat", channel=channel["id"], name=channel["name"])

    async def set_topic(self, key: ConversationKey, topic: str) -> None:
        if not await self.store.set_topic(key.channel, topic):
            raise PlatformError(f"web chat channel {key.channel!r} does not exist")

    async def resolve_members(self, ids: list[str], *, like: ConversationKey) -> list[str]:
        """The web chat has no groups: names are users."""
        return list(ids)

    async def pin(self, ref: MessageRef) -> None:
        """The web chat has no pins; the card stays first in its thread."""

    async def send_private(self, key: ConversationKey, user_id: str, text: str) -> None:
        """The web chat answers clicks privately in the HTTP response; elsewhere there is no private channel."""
        raise PlatformError("the web chat has no private messages outside a click response")
