"""The web chat's ReplyStream: one bot message row that grows, shown live over the event stream.

While the reply grows, the row carries a ``stream`` block (the status line, the steps and
the session the Stop button stops); the browser renders it as a streaming message with a
Stop button. The final message replaces the row's text and blocks: one message in the
store, with the full text. The row's idempotency key is the turn's, so a retried
attempt writes into the same row.
"""

from __future__ import annotations

from typing import Any

from adapters.base import PlatformError
from adapters.stream_fallback import PostThenUpdateStream
from adapters.webchat.store import WebChatStore
from workflows.contracts import ConversationKey, MessageRef, Reply

#: Seconds between two writes of a growing message (each is an SSE event for every browser).
STREAM_INTERVAL = 0.2
BOT_USER = "threadwork"


class WebChatStream(PostThenUpdateStream):
    def __init__(self, store: WebChatStore, platform: Any, key: ConversationKey, idempotency_key: str) -> None:
        super().__init__(platform, key, idempotency_key, interval=STREAM_INTERVAL)
        self.store = store

    def _blocks(self, reply: Reply, final: bool) -> list[dict[str, Any]]:
        blocks = [b.model_dump() for b in reply.blocks]
        if final:
            return blocks
        steps = [{"title": title, "state": state} for title, state in self.steps.values()]
        # A child's progress (steps, no text of its own) is not a turn a Stop could end.
        stoppable = bool(self.text) or not self.steps
        return [
            {
                "type": "stream",
                "status": self.status_text,
                "session_id": self.key.session_id(),
                "steps": steps,
                "stoppable": stoppable,
            }
        ]

    async def earlier_text(self) -> str:
        """The row's text (a retried turn's first write under the key returns the earlier attempt's row)."""
        if self.ref is None:
            self.ref = await self.write_new(self.interim(), final=False)
        row = await self.store.get_message(self.ref.message_id)
        return str(row["text"]) if row else ""

    async def write_new(self, reply: Reply, final: bool) -> MessageRef:
        if not await self.store.channel_exists(self.key.channel):
            raise PlatformError(f"web chat channel {self.key.channel!r} does not exist")
        row = await self.store.add_message(
            channel=self.key.channel,
            thread=None if self.key.thread in (None, "main") else self.key.thread,
            user=BOT_USER,
            text=reply.text if final else self.text,
            is_bot=True,
            blocks=self._blocks(reply, final),
            idempotency_key=self.idempotency_key,
        )
        return MessageRef(key=self.key, message_id=row["id"])

    async def write_update(self, ref: MessageRef, reply: Reply, final: bool) -> None:
        text = reply.text if final else self.text
        if await self.store.update_message(ref.message_id, text, self._blocks(reply, final)) is None:
            raise PlatformError(f"web chat message {ref.message_id} does not exist")
