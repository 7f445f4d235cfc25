"""The streamed turn: match triggers, then write the reply into a ReplyStream as it is produced.

A normal activity (not local): it heartbeats, so a SIGKILLed worker's turn is retried
elsewhere after the heartbeat timeout, and Stop reaches it as Temporal's cancellation.
The chunks go straight to the platform; the workflow gets only the final text and the
MessageRef. The stream's idempotency key comes from the workflow (one per turn), so a
retried attempt rewrites its own message instead of posting a second one.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import AsyncIterator
from typing import Any

from pydantic import BaseModel, Field
from temporalio import activity

from workflows.activities.guarded_stream import GuardedStream
from workflows.activities.models import ReplyRequest
from workflows.activities.platform import _as_temporal
from workflows.activities.replies import ReplyActivities
from workflows.activities.responder import builtin_reply, fallback_reply
from workflows.activities.triggering import TriggerActivities
from workflows.contracts import Actor, ConversationKey, FileRef, MessageRef, Reply, WorkflowStart
from workflows.platform_port import ChatPlatform, PlatformError, PlatformRegistry, ReplyStream, StreamingPlatform
from workflows.stream_contracts import STOPPED_NOTE, StreamedTurn

log = logging.getLogger(__name__)

THINKING = "thinking…"
#: Seconds between two heartbeats while the model is silent (the SDK throttles what it sends).
HEARTBEAT_EVERY = 0.5
#: The built-in responder's pace: a few words per chunk, this many seconds apart.
BUILTIN_WORDS_PER_CHUNK = 3
BUILTIN_CHUNK_DELAY = 0.03
_WORDS = re.compile(r"\S+\s*")


class StreamTurnRequest(BaseModel):
    reply: ReplyRequest
    files: list[FileRef] = Field(default_factory=list)
    key: ConversationKey
    #: One per turn, from the workflow (Poster.next_key): the same on every attempt.
    idempotency_key: str
    reply_context: dict[str, Any] | None = None
    #: The retry policy's attempts: the last one answers with the polite fallback in its own message.
    max_attempts: int = 3


class StreamTurnResult(BaseModel):
    #: A child to start: the workflow starts it, then asks for the announcing reply separately.
    decision: WorkflowStart | None = None
    turn: StreamedTurn | None = None


async def builtin_chunks(text: str, delay: float = BUILTIN_CHUNK_DELAY) -> AsyncIterator[str]:
    """The built-in reply, a few words at a time, so the experience is the same without a model."""
    words = _WORDS.findall(text)
    for start in range(0, len(words), BUILTIN_WORDS_PER_CHUNK):
        if start and delay:
            await asyncio.sleep(delay)
        yield "".join(words[start : start + BUILTIN_WORDS_PER_CHUNK])


async def open_reply_stream(
    platform: ChatPlatform,
    key: ConversationKey,
    idempotency_key: str,
    recipient: Actor | None,
    context: dict[str, Any] | None,
) -> ReplyStream | None:
    """The platform's own stream; None for a platform that has none (yet): the session posts its reply whole."""
    if not isinstance(platform, StreamingPlatform):
        return None
    return await platform.open_stream(key, idempotency_key, recipient, context=context)


class StreamingTurnActivities:
    def __init__(
        self,
        trigger: TriggerActivities,
        replies: ReplyActivities,
        registry: PlatformRegistry,
        builtin_delay: float = BUILTIN_CHUNK_DELAY,
    ) -> None:
        self._trigger = trigger
        self._replies = replies
        self._registry = registry
        self._builtin_delay = builtin_delay

    @activity.defn
    async def stream_turn(self, req: StreamTurnRequest) -> StreamTurnResult:
        decision = await self._trigger.match_trigger_now(req.reply.text, req.files)
        if decision is not None:
            return StreamTurnResult(decision=decision)
        ticker = asyncio.create_task(_heartbeat_while_running())
        try:
            return StreamTurnResult(turn=await self._stream(req))
        except PlatformError as err:
            raise _as_temporal(err) from None
        finally:
            ticker.cancel()

    async def _stream(self, req: StreamTurnRequest) -> StreamedTurn:
        platform = self._registry.get(req.key.platform)
        try:
            stream = GuardedStream(
                await open_reply_stream(platform, req.key, req.idempotency_key, req.reply.actor, req.reply_context)
            )
        except PlatformError as err:
            log.warning("could not open a stream, the reply is delivered after the turn instead: %s", err)
            stream = GuardedStream(None, err)
        parts: list[str] = []
        try:
            await stream.status(THINKING)
            if self._replies.answers_builtin(req.reply):
                final = builtin_reply(req.reply.text, req.reply.summary, req.reply.started)
                chunks = builtin_chunks(final.text, self._builtin_delay)
            else:
                final = None
                chunks = self._replies.stream_llm(req.reply)
            async for delta in chunks:
                parts.append(delta)
                await stream.append(delta)
                activity.heartbeat(len("".join(parts)))
            text = "".join(parts).strip()
            if not text:
                raise RuntimeError("the language model returned an empty answer")
            reply = final or Reply(text=text)
            return _finished(stream, reply, await stream.finish(reply))
        except asyncio.CancelledError:
            if not activity.is_cancelled():
                raise  # the worker is shutting down: Temporal retries the turn
            return await _stopped(stream, "".join(parts))
        except Exception as err:
            if activity.info().attempt < req.max_attempts:
                raise  # Temporal retries the turn; the next attempt rewrites this message
            # The last attempt: the message this turn started says sorry instead of staying half-written.
            log.warning("reply failed on the last attempt, answering with the fallback: %s", err)
            fallback = fallback_reply()
            return _finished(stream, fallback, await stream.finish(fallback))


def _finished(stream: GuardedStream, reply: Reply, posted: MessageRef | None) -> StreamedTurn:
    """The turn's outcome; without ``posted`` the workflow delivers ``reply`` itself (platform retry window)."""
    if posted is not None:
        return StreamedTurn(reply=reply, posted=posted)
    if stream.failed is not None and not stream.failed.retryable:
        return StreamedTurn(reply=reply, refusal=str(stream.failed))
    return StreamedTurn(reply=reply, partly_shown=stream.touched, refused_at=stream.failed_at)


async def _stopped(stream: GuardedStream, text: str) -> StreamedTurn:
    """Stop was pressed: the message keeps the text so far and says it was stopped."""
    # Cancellation reached the activity once; finishing the message must not be cancelled again.
    posted = await asyncio.shield(stream.stop(STOPPED_NOTE))
    activity.logger.info("turn stopped after %d characters", len(text))
    return StreamedTurn(reply=Reply(text=text.strip()), posted=posted, stopped=True)


async def _heartbeat_while_running() -> None:
    """Heartbeats while the model thinks: keeps the heartbeat timeout short and lets Stop arrive."""
    with contextlib.suppress(asyncio.CancelledError):
        while True:
            activity.heartbeat()
            await asyncio.sleep(HEARTBEAT_EVERY)
