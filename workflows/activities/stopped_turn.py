"""Finishing a streamed turn that Stop ended between two attempts (a worker died, the retry had not started).

Nothing runs then that could finish the message, so it would keep its text without the stopped
note. This activity opens the turn's stream again under the turn's own idempotency key (so it is
the same message on every platform) and stops it: the adapter keeps what the message shows and
adds the note (docs/assistant.md, "Stop").
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel
from temporalio import activity

from workflows.activities.platform import _as_temporal
from workflows.activities.streaming_turn import open_reply_stream
from workflows.contracts import Actor, ConversationKey, Reply
from workflows.platform_port import PlatformError, PlatformRegistry
from workflows.stream_contracts import STOPPED_NOTE, StreamedTurn


class FinishStoppedRequest(BaseModel):
    key: ConversationKey
    #: The stopped turn's (or model call's) key: its message, not a new one.
    idempotency_key: str
    recipient: Actor | None = None
    reply_context: dict[str, Any] | None = None


class StoppedTurnActivities:
    def __init__(self, registry: PlatformRegistry) -> None:
        self._registry = registry

    @activity.defn
    async def finish_stopped_turn(self, req: FinishStoppedRequest) -> StreamedTurn:
        """The stopped message's ref; its text stays on the platform (the session records the stop)."""
        try:
            platform = self._registry.get(req.key.platform)
            stream = await open_reply_stream(platform, req.key, req.idempotency_key, req.recipient, req.reply_context)
            posted = await stream.stop(STOPPED_NOTE) if stream is not None else None
        except PlatformError as err:
            raise _as_temporal(err) from None
        return StreamedTurn(reply=Reply(text=""), posted=posted, stopped=True, between_attempts=True)
