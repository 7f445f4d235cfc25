"""The Teams ReplyStream of a 1:1 chat: informative updates, cumulative chunks, one final message.

Teams streams bot messages in personal chats only (docs/assistant-teams.md). The first
typing activity starts the stream and its answer's id is the streamId; each later chunk
carries ALL the text so far with a larger streamSequence; a message activity marked
"final" closes the stream and is the one message the chat keeps. Appends are buffered and
sent at most once per ``interval`` by one background flush.

Exactly once: the stream's progress (streamId, last sequence, last text) is written to the
PostedLog under ``{idempotency key}#stream`` before each chunk goes out, so a retried
activity (the worker was killed mid-stream) continues THAT stream: its next chunk has a
larger sequence and is sent once its text again contains what Teams already shows. A
finished or fallen-back reply is recorded under the idempotency key itself, where a retry
finds it and rewrites the same message (TeamsPlatform.open_stream).

Refusals: the user's Stop (403 "cancelled by user") calls the platform's stop hook, which
asks the session to stop the turn (SessionDispatcher.stop_turn); a stream Teams will not
start (not allowed, another stream active) or that ran out of time falls back to
post-then-update on the same message.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import TYPE_CHECKING, Any

from botbuilder.schema import ConversationReference

from adapters.base import PlatformError, ReplyStream
from adapters.stream_fallback import PostThenUpdateStream, with_steps
from adapters.teams.cards import render_activity
from adapters.teams.stream_wire import Refusal, error_text, final_message, refusal_of, typing_update
from workflows.contracts import Actor, ConversationKey, MessageRef, Reply
from workflows.stream_contracts import StepState

if TYPE_CHECKING:
    from adapters.teams.platform import TeamsPlatform

log = logging.getLogger(__name__)

#: Seconds between two chunks of one stream (Teams throttles bots that stream faster).
DEFAULT_INTERVAL = 0.5


def stream_record_key(idempotency_key: str) -> str:
    return f"{idempotency_key}#stream"


class TeamsStream:
    """One streamed reply in a 1:1 chat (see the module docstring)."""

    def __init__(
        self,
        platform: TeamsPlatform,
        key: ConversationKey,
        idempotency_key: str,
        reference: ConversationReference,
        *,
        recipient: Actor | None,
        context: dict[str, Any] | None,
        record: dict[str, Any] | None = None,
        interval: float = DEFAULT_INTERVAL,
    ) -> None:
        self.platform = platform
        self.key = key
        self.idempotency_key = idempotency_key
        self.reference = reference
        self.recipient = recipient
        self.context = context
        self.interval = interval
        self.text = ""
        self.status_text = ""
        #: The work steps shown (a child's progress): informative updates while they run, a checklist at the end.
        self.steps: dict[str, tuple[str, StepState]] = {}
        #: Set when the user pressed Stop in Teams (the connector refused a chunk as cancelled).
        self.stopped_by_user = False
        self._stream_id: str | None = None
        self._sequence = 0
        self._shown = ""  # the text Teams shows for this stream (at most: it may have missed the last chunk)
        self._resumed = False
        if record:  # a retried attempt: continue the stream the earlier attempt started
            self._stream_id = record.get("stream_id") or None
            self._sequence = int(record.get("sequence") or 0)
            self._shown = str(record.get("text") or "")
            self._resumed = True
        self._fallback: ReplyStream | None = None
        self._informed = ""  # the last informative text sent
        self._lock = asyncio.Lock()
        self._flusher: asyncio.Task[None] | None = None
        self._inflight: asyncio.Future[None] | None = None
        self._last_send = 0.0
        self._closing = False
        self._stop_task: asyncio.Task[None] | None = None

    # ---- ReplyStream ----------------------------------------------------------

    async def status(self, text: str) -> None:
        if self._fallback is not None:
            await self._fallback.status(text)
            return
        self.status_text = text
        self._schedule()

    async def append(self, delta: str) -> None:
        if self._fallback is not None:
            await self._fallback.append(delta)
            return
        self.text += delta
        self._schedule()

    async def step(self, step_id: str, title: str, state: StepState) -> None:
        """Teams has no step list: a step in progress becomes the informative update (before any text)."""
        if self._fallback is not None:
            await self._fallback.step(step_id, title, state)
            return
        self.steps[step_id] = (title, state)
        if state == "in_progress":
            await self.status(title)

    async def finish(self, reply: Reply) -> MessageRef:
        await self._quiet()
        async with self._lock:
            if self._fallback is not None:
                return await self._fallback.finish(reply)
            return await self._close(with_steps(reply, self.steps))

    async def stop(self, note: str) -> MessageRef:
        await self._quiet()
        async with self._lock:
            if self._fallback is not None:
                return await self._fallback.stop(note)
            # Nothing of its own (stopped between two attempts): the text the stream shows stays.
            so_far = self.text if self.text.strip() else self._shown
            text = f"{so_far.rstrip()}\n\n{note}" if so_far.strip() else note
            return await self._close(Reply(text=text))

    # ---- flushing -----------------------------------------------------------------

    def _schedule(self) -> None:
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush_when_due())

    async def _flush_when_due(self) -> None:
        wait = self._last_send + self.interval - time.monotonic()
        if wait > 0:
            await asyncio.sleep(wait)
        # Shielded: cancelling the wait must not cut a chunk off mid-request (_quiet waits for it).
        self._inflight = asyncio.ensure_future(self._locked_flush())
        await asyncio.shield(self._inflight)

    async def _locked_flush(self) -> None:
        async with self._lock:
            if self._fallback is None and not self.stopped_by_user and not self._closing:
                try:
                    await self._flush()
                except Exception:  # nobody awaits this task: a bug must still show, and finish() still runs
                    log.exception("streaming into Teams conversation %s failed", self.key.channel)

    async def _quiet(self) -> None:
        """No flush waits any more (finish and stop write the end themselves; one in flight ends first)."""
        self._closing = True
        if self._flusher is not None and not self._flusher.done():
            self._flusher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._flusher
        if self._inflight is not None:
            await asyncio.wait([self._inflight])

    async def _flush(self) -> None:
        self._last_send = time.monotonic()
        if not self._shown and self.status_text and self.status_text != self._informed:
            # Informative updates come before any text (Teams refuses them after); text follows next time.
            await self._send_chunk(self.status_text, informative=True)
        elif self.text and self.text != self._shown and self.text.startswith(self._shown):
            # (A resumed stream goes on once its text again contains what Teams shows: a chunk must.)
            await self._send_chunk(self.text)
        if self._fallback is None and not self.stopped_by_user and not self._closing and self._pending():
            self._schedule_later()

    def _pending(self) -> bool:
        return bool(self.text) and self.text != self._shown and self.text.startswith(self._shown)

    def _schedule_later(self) -> None:
        self._flusher = asyncio.create_task(self._flush_when_due())

    async def _send_chunk(self, text: str, *, informative: bool = False) -> None:
        sequence = self._sequence + 1
        kind = "informative" if informative else "streaming"
        if self._stream_id is not None:  # write-ahead: a retry continues after this sequence and text
            await self._remember(sequence, text if not informative else self._shown)
        activity = typing_update(text, stream_type=kind, sequence=sequence, stream_id=self._stream_id)
        try:
            answer_id = await self.platform.send_to(self.reference, activity)
        except Exception as err:  # connector answers: the refusal decides
            await self._refused(err, "send a streamed chunk")
            return
        self._sequence = sequence
        if informative:
            self._informed = text
        else:
            self._shown = text
        if self._stream_id is None:
            if not answer_id:
                raise PlatformError("Teams did not return a stream id for the first streamed activity")
            self._stream_id = answer_id
            await self._remember(sequence, self._shown)

    async def _remember(self, sequence: int, text: str, *, ended: bool = False) -> None:
        """``ended``: the stream takes no more activities (Stop, refused): a later post does not close it."""
        record: dict[str, Any] = {"stream_id": self._stream_id, "sequence": sequence, "text": text}
        if ended:
            record["ended"] = True
        await self.platform.posted.put(stream_record_key(self.idempotency_key), record)

    async def _end_stream(self) -> None:
        if self._stream_id is not None:
            await self._remember(self._sequence, self._shown, ended=True)

    # ---- refusals and fallbacks ---------------------------------------------------------

    async def _refused(self, err: Exception, what: str) -> None:
        refusal = refusal_of(err)
        if refusal is Refusal.TRANSIENT:
            log.warning(
                "could not %s in Teams conversation %s (will try again): %s", what, self.key.channel, error_text(err)
            )
            return
        if refusal is Refusal.CANCELLED:
            await self._user_stopped()
            return
        log.warning(
            "Teams refused to %s in %s (%s: %s); going on with post-then-update",
            what,
            self.key.channel,
            refusal.value,
            error_text(err),
        )
        await self._fall_back()

    async def _fall_back(self) -> None:
        """Post-then-update from here on, on the streamed message when there is one (still one message).

        A stream that showed only informative updates left no message behind: the fallback posts one.
        """
        await self._end_stream()
        if self._has_message():
            await self.platform.posted.put(self.idempotency_key, self._ref().model_dump(mode="json"))
        fallback = PostThenUpdateStream(
            self.platform, self.key, self.idempotency_key, context=self.context, interval=self.interval
        )
        fallback.steps.update(self.steps)
        # Primed before appends go to it (they keep landing in self.text meanwhile), so it posts once.
        primed = self.text
        if self.status_text:
            await fallback.status(self.status_text)
        if primed:
            await fallback.append(primed)
        fallback.text += self.text[len(primed) :]
        self._fallback = fallback

    async def _user_stopped(self) -> None:
        """Stop pressed in Teams: the message keeps what was streamed; the session stops the turn."""
        if self.stopped_by_user:
            return
        self.stopped_by_user = True
        log.info("the user stopped the streamed reply in Teams conversation %s", self.key.channel)
        await self._end_stream()
        if self._has_message():
            await self.platform.posted.put(self.idempotency_key, self._ref().model_dump(mode="json"))
        actor = self.recipient or self._user_in_reference()
        request_id = f"teams-stop-{self._stream_id or self.idempotency_key}"
        self._stop_task = asyncio.create_task(self.platform.user_stopped(self.key, actor, request_id))

    def _user_in_reference(self) -> Actor:
        user = self.reference.user
        return Actor(id=getattr(user, "id", None) or "teams-user", name=getattr(user, "name", None) or "")

    def _has_message(self) -> bool:
        """Whether the chat shows this stream as a message (informative updates alone are not one)."""
        return self._stream_id is not None and bool(self._shown)

    def _ref(self) -> MessageRef:
        return MessageRef(
            key=self.key, message_id=self._stream_id or "", extra={"reference": self.reference.serialize()}
        )

    # ---- the end -----------------------------------------------------------------

    async def _close(self, reply: Reply) -> MessageRef:
        if self._stream_id is None or (self.stopped_by_user and not self._shown):
            # Nothing streamed yet (a quick reply), or stopped before any text: one plain message.
            return await self.platform.post(self.key, reply, idempotency_key=self.idempotency_key, context=self.context)
        ref = self._ref()
        if not self.stopped_by_user:
            try:
                await self.platform.send_to(self.reference, final_message(render_activity(reply), self._stream_id))
            except Exception as err:  # connector answers: the refusal decides
                refusal = refusal_of(err)
                if refusal is Refusal.TRANSIENT:
                    raise PlatformError(
                        f"Teams did not take the final streamed message: {error_text(err)}", retryable=True
                    ) from err
                if refusal is Refusal.CANCELLED:
                    await self._user_stopped()
                else:
                    log.warning(
                        "Teams refused the final streamed message (%s); updating the message instead", refusal.value
                    )
                    await self._update(ref, reply)
            else:
                await self.platform.posted.put(self.idempotency_key, ref.model_dump(mode="json"))
                return ref
        else:
            await self._update(ref, reply)
        await self.platform.posted.put(self.idempotency_key, ref.model_dump(mode="json"))
        return ref

    async def _update(self, ref: MessageRef, reply: Reply) -> None:
        """Replace the streamed message (after Stop or a closed stream); a refusal leaves what it shows."""
        try:
            await self.platform.update(ref, reply)
        except PlatformError as err:
            if err.retryable:
                raise
            log.warning("could not update the streamed message in %s: %s", self.key.channel, err)
