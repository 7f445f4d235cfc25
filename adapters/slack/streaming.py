"""Slack's rendering of a ReplyStream: one bot message that grows while a turn runs.

Where Slack can stream (a thread, or a DM thread; outside DMs with the recipient fields set)
the text goes out through chat.startStream / chat.appendStream / chat.stopStream, and
children's steps as ``task_update`` chunks. Everywhere else, and whenever Slack refuses a
stream (429 on chat.startStream, ``message_not_in_streaming_state`` after a pause or the
user's Stop, a surface without streaming), the same message is posted once and then updated
(chat.postMessage, chat.update): still one message.

Exactly once: the message of an idempotency key is remembered in the PostedLog under
``{key}#stream`` as soon as Slack names it. A retried turn (the worker died mid-stream)
opens the stream again with the same key, finds that message, ends its stream and replaces
its text from the beginning with chat.update: it never posts a second one.

Appends are buffered and sent at most every ``STREAM_FLUSH_SECONDS`` (chat.update, in the
fallback, every ``UPDATE_FLUSH_SECONDS``); a failed flush is logged and retried by the next
one, only ``finish``/``stop`` raise.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.agent_status import AgentStatus
from adapters.slack.blocks import RenderError, SlackMessage, render
from adapters.slack.client import platform_error
from adapters.slack.feedback import feedback_block
from adapters.slack.mapping import DM_THREAD
from adapters.slack.metadata import post_metadata, unsure_post_key
from adapters.slack.stop_button import stop_block
from workflows.contracts import Actor, ConversationKey, MessageRef, Reply
from workflows.platform_port import PlatformError
from workflows.stream_contracts import StepState

if TYPE_CHECKING:
    from adapters.slack.platform import SlackPlatform

log = logging.getLogger(__name__)

STREAM_FLUSH_SECONDS = 0.3  # at most ~3 appendStream calls a second
UPDATE_FLUSH_SECONDS = 1.0  # chat.update is Tier 3 (50+ a minute)
NOT_STREAMING = "message_not_in_streaming_state"
STEP_ICONS = {"pending": "○", "in_progress": "◐", "complete": "✓", "error": "✗"}
STEP_STATES = set(STEP_ICONS)
_STATUS_REFUSALS_LOGGED: set[str] = set()


def stream_record_key(idempotency_key: str) -> str:
    return f"{idempotency_key}#stream"


def _error_code(err: SlackApiError) -> str:
    data = err.response.data
    return data.get("error", "") if isinstance(data, dict) else ""


def _why(err: Exception) -> str:
    if isinstance(err, SlackApiError):
        return _error_code(err) or f"HTTP {err.response.status_code}"
    return str(err) or type(err).__name__


def _rest_of(shown: str, reply: Reply) -> str | None:
    """What ``reply`` adds to the ``shown`` text; None when it does not continue it (or brings blocks of its own).

    The final text may differ from the streamed one by surrounding whitespace only (the turn strips it).
    """
    if reply.blocks:
        return None
    if reply.text.startswith(shown):
        return reply.text[len(shown) :]
    if shown.strip() == reply.text.strip():
        return ""
    return None


async def end_stream(client: AsyncWebClient, channel: str, ts: str) -> None:
    """End a stream an earlier attempt left open, so chat.update may replace it (one that already ended is fine).

    Raises PlatformError (retryable when waiting may help).
    """
    try:
        await client.chat_stopStream(channel=channel, ts=ts)
    except SlackApiError as err:
        if _error_code(err) != NOT_STREAMING:
            raise platform_error("chat.stopStream", err) from err
    except (SlackClientError, OSError) as err:
        raise platform_error("chat.stopStream", err) from err


@dataclass
class Target:
    """Where the message goes and whether Slack can stream there."""

    key: ConversationKey
    recipient: Actor | None

    @property
    def channel(self) -> str:
        return self.key.channel

    @property
    def thread_ts(self) -> str | None:
        return None if self.key.thread in (None, DM_THREAD) else self.key.thread

    @property
    def is_dm(self) -> bool:
        return self.key.channel.startswith("D")

    def why_not_streaming(self) -> str | None:
        """None when chat.startStream may be tried; else the reason to post and update instead."""
        if self.thread_ts is None:
            return "a top-level message (Slack streams only replies in a thread)"
        if not self.is_dm and self.recipient is None:
            return "no recipient for a stream outside a DM"
        return None

    def recipient_fields(self) -> dict[str, str]:
        if self.is_dm or self.recipient is None:
            return {}
        return {"recipient_user_id": self.recipient.id, "recipient_team_id": self.key.workspace}


@dataclass
class _State:
    mode: str = "idle"  # idle | stream | update | done
    ts: str | None = None
    text: str = ""  # everything appended since this stream was opened
    sent: int = 0  # characters of ``text`` Slack has (stream mode)
    shown: str | None = None  # the text the last chat.update showed (update mode)
    steps: dict[str, tuple[str, str]] = field(default_factory=dict)
    unsent_steps: list[str] = field(default_factory=list)
    old_stream: bool = False  # a retried turn: an earlier attempt's stream may still be open
    replay: bool = False  # a retried turn whose message was already final: only the final update shows
    last_flush: float = 0.0
    opened_at: float = field(default_factory=time.monotonic)


class SlackReplyStream:
    """One reply that grows; made by ``SlackPlatform.open_stream``."""

    def __init__(
        self,
        platform: SlackPlatform,
        target: Target,
        idempotency_key: str,
        stream_client: AsyncWebClient,
        client: AsyncWebClient,
        agent: AgentStatus,
        *,
        stop_button: bool = False,
    ) -> None:
        self._platform = platform
        self._target = target
        self._idem = idempotency_key
        self._stream_client = stream_client  # no 429 retries: a refused start falls back at once
        self._client = client
        self._agent = agent
        self._state = _State()
        self._lock = asyncio.Lock()
        self._timer: asyncio.Task[None] | None = None
        self._status_shown = False
        self._post_unsure = False
        self._refused: PlatformError | None = None
        self._resumed = False  # an earlier attempt of this turn left a message
        self._offer_stop = stop_button  # a Stop button while the answer streams (apps without agent sessions)
        self._stop_shown = False  # ... shown: the final message is set by chat.update, without it

    # ---- opening -----------------------------------------------------------------

    async def resume(self) -> None:
        """Find the message an earlier attempt of this turn started, if any (exactly once)."""
        record = await self._platform.posted.get(stream_record_key(self._idem))
        if record is None:
            # A fallback post recorded under its part key, or (on a retry) found in Slack by its metadata.
            ts = await self._platform.find_post(self._target.key, f"{self._idem}#0")
            if ts is not None:
                record = {"ts": ts, "mode": "update"}
        why = self._target.why_not_streaming()
        if why is not None:
            log.debug(
                "reply %s in %s: %s; posting and updating one message", self._idem, self._target.key.session_id(), why
            )
            self._state.mode = "update"
        if record is not None:
            log.info("reply %s already has message %s; replacing its text", self._idem, record["ts"])
            self._state.mode = "update"
            self._state.ts = record["ts"]
            self._state.old_stream = record.get("mode") == "stream" and record.get("state") != "done"
            self._state.replay = record.get("state") == "done"
            self._resumed = True
        await self._agent.set(self._target, "processing")

    # ---- the ReplyStream contract ------------------------------------------------------

    async def status(self, text: str) -> None:
        """assistant.threads.setStatus: Slack shows it (with its loading animation) until the reply arrives."""
        thread_ts = self._target.thread_ts
        if thread_ts is None or self._state.mode == "done":
            return
        try:
            await self._client.assistant_threads_setStatus(
                channel_id=self._target.channel, thread_ts=thread_ts, status=text
            )
            self._status_shown = bool(text)
        except (SlackClientError, OSError) as err:
            # A workspace that does not allow it refuses every turn: say so once per reason, then quietly.
            why = _why(err)
            level = logging.DEBUG if why in _STATUS_REFUSALS_LOGGED else logging.WARNING
            _STATUS_REFUSALS_LOGGED.add(why)
            log.log(level, "Slack assistant.threads.setStatus in %s failed: %s", self._target.key.session_id(), why)

    async def append(self, delta: str) -> None:
        if not delta:
            return
        self._state.text += delta
        await self._schedule()

    async def step(self, step_id: str, title: str, state: StepState) -> None:
        if state not in STEP_STATES:
            raise ValueError(f"step state must be one of {sorted(STEP_STATES)}, not {state!r}")
        self._state.steps[step_id] = (title, state)
        if step_id not in self._state.unsent_steps:
            self._state.unsent_steps.append(step_id)
        await self._schedule()

    async def finish(self, reply: Reply) -> MessageRef:
        """The final message: the full text, its blocks and (for a streamed answer) feedback buttons."""
        feedback = bool(self._state.text) and not any(getattr(b, "type", "") == "buttons" for b in reply.blocks)
        return await self._final(reply, feedback=feedback)

    async def stop(self, note: str) -> MessageRef:
        """Stop pressed: the text so far and ``note``, as the final message."""
        if not self._state.text.strip() and self._resumed:
            # Nothing of its own (stopped between two attempts): keep what the earlier attempt's message shows.
            self._state.text = await self._earlier_text()
        text = f"{self._state.text}\n\n{note}" if self._state.text.strip() else note
        return await self._final(Reply(text=text), feedback=False)

    async def _earlier_text(self) -> str:
        """The text Slack shows for this turn's message ("" when it cannot be read)."""
        channel, ts, thread_ts = self._target.channel, self._state.ts, self._target.thread_ts
        try:
            if thread_ts is not None:
                resp = await self._client.conversations_replies(
                    channel=channel, ts=thread_ts, oldest=ts, latest=ts, inclusive=True, limit=10
                )
            else:
                resp = await self._client.conversations_history(
                    channel=channel, oldest=ts, latest=ts, inclusive=True, limit=1
                )
        except (SlackClientError, OSError) as err:
            log.warning("reply %s: could not read the message's text before stopping it: %s", self._idem, _why(err))
            return ""
        return next((str(m.get("text") or "") for m in resp.get("messages") or [] if m.get("ts") == ts), "")

    # ---- flushing -------------------------------------------------------------------

    def _interval(self) -> float:
        return STREAM_FLUSH_SECONDS if self._state.mode in ("idle", "stream") else UPDATE_FLUSH_SECONDS

    async def _schedule(self) -> None:
        """Flush now when the last flush is old enough (a stream's first chunk at once), else once the interval is up.

        A message that must be posted and updated is posted only once the reply has taken
        ``UPDATE_FLUSH_SECONDS``: a quick reply is posted once, whole, by ``finish``.
        """
        state = self._state
        if state.mode == "done" or state.replay:
            return
        now = time.monotonic()
        if state.mode == "idle":
            wait = 0.0
        elif state.ts is None:
            wait = state.opened_at + UPDATE_FLUSH_SECONDS - now
        else:
            wait = state.last_flush + self._interval() - now
        if wait <= 0:
            if self._timer is None:
                # Shielded: a turn cancelled mid-call (Stop) must not leave a started stream unrecorded.
                await asyncio.shield(self._locked_flush())
            return
        if self._timer is None:
            self._timer = asyncio.get_running_loop().create_task(self._flush_later(wait))

    async def _flush_later(self, wait: float) -> None:
        await asyncio.sleep(wait)
        self._timer = None  # past this point finish/stop wait for the flush instead of cancelling it
        await self._locked_flush()

    async def _locked_flush(self) -> None:
        async with self._lock:
            await self._flush()

    async def _flush(self) -> None:
        state = self._state
        if state.mode == "done" or state.replay or self._refused or (not state.text and not state.unsent_steps):
            return
        state.last_flush = time.monotonic()
        try:
            if state.mode == "idle":
                await self._start()
            elif state.mode == "stream":
                await self._append_stream()
            else:
                await self._update(Reply(text=state.text), final=False)
        except PlatformError as err:
            if not err.retryable:
                self._refused = err  # for good (the channel is gone): finish says so without asking again
            log.warning(
                "Slack stream update for %s failed%s: %s", self._idem, "" if err.retryable else " for good", err
            )
        except (SlackClientError, OSError) as err:
            # The next flush (or finish) tries again: a lost update must not fail the turn.
            log.warning("Slack stream update for %s failed, will retry: %s", self._idem, _why(err))

    async def _start(self) -> None:
        """The first chunk starts the stream; a refused start posts the message instead (then updates it)."""
        state, target = self._state, self._target
        chunks = self._chunks()
        offer_stop = self._offer_stop and bool(state.text)  # an answer, not a child's progress
        if offer_stop:
            chunks.append({"type": "blocks", "blocks": [stop_block(target.key)]})
        try:
            resp = await self._stream_client.chat_startStream(
                channel=target.channel,
                thread_ts=target.thread_ts or "",
                chunks=chunks,
                **target.recipient_fields(),
            )
        except SlackApiError as err:
            why = f"chat.startStream refused ({_why(err)})"
        except (SlackClientError, OSError) as err:
            why = f"chat.startStream failed ({_why(err)})"
        else:
            state.mode, state.ts, state.sent = "stream", resp["ts"], len(state.text)
            state.unsent_steps.clear()
            self._stop_shown = offer_stop
            await self._remember("stream", "open")
            return
        log.warning(
            "reply %s in %s: %s; posting and updating one message instead", self._idem, target.key.session_id(), why
        )
        state.mode = "update"
        await self._update(Reply(text=state.text), final=False)

    async def _append_stream(self) -> None:
        state = self._state
        chunks = self._chunks()
        if not chunks:
            return
        sent = len(state.text)
        try:
            await self._stream_client.chat_appendStream(channel=self._target.channel, ts=state.ts or "", chunks=chunks)
        except SlackApiError as err:
            if _error_code(err) == NOT_STREAMING or err.response.status_code != 429:
                log.warning(
                    "reply %s: chat.appendStream refused (%s); updating the message instead", self._idem, _why(err)
                )
                state.mode = "update"
                await self._remember("update", "open")
                await self._update(Reply(text=state.text), final=False)
            # 429: keep the text buffered; the next flush sends it.
            return
        state.sent = sent
        state.unsent_steps.clear()

    def _chunks(self, *, text: bool = True) -> list[dict[str, Any]]:
        chunks: list[dict[str, Any]] = []
        delta = self._state.text[self._state.sent :] if text else ""
        if delta:
            chunks.append({"type": "markdown_text", "text": delta})
        for step_id in self._state.unsent_steps:
            title, state = self._state.steps[step_id]
            chunks.append({"type": "task_update", "id": step_id, "title": title, "status": state})
        return chunks

    def _steps_block(self) -> list[dict[str, Any]]:
        if not self._state.steps:
            return []
        lines = [f"{STEP_ICONS[state]} {title}" for title, state in self._state.steps.values()]
        return [{"type": "context", "elements": [{"type": "mrkdwn", "text": "\n".join(lines)[:3000]}]}]

    async def _update(self, reply: Reply, *, final: bool, feedback: bool = False) -> list[str]:
        """Post-then-update: the first call posts (once, by idempotency key), later ones chat.update it."""
        state = self._state
        try:
            messages = render(reply)
        except RenderError as err:
            raise PlatformError(f"cannot render this reply for Slack: {err}") from err
        first = messages[0]
        extra = self._steps_block() + ([feedback_block(self._target.key)] if feedback else [])
        if not final and self._offer_stop and reply.text:
            extra.append(stop_block(self._target.key))
            self._stop_shown = True
        if extra and len(first.blocks) + len(extra) <= 50 and len(messages) == 1:
            first = SlackMessage(text=first.text, blocks=first.blocks + extra)
        if not final and state.shown == reply.text and not state.unsent_steps and state.ts is not None:
            return [state.ts]
        if state.ts is None:
            try:
                state.ts = await self._platform.post_part(
                    self._target.key, first, f"{self._idem}#0", lookup=self._post_unsure
                )
            except PlatformError:
                self._post_unsure = True  # Slack may have stored it: the next try looks for it before posting
                # So must the session's own post of this reply, if the turn now gives up on the stream.
                with contextlib.suppress(Exception):
                    await self._platform.posted.put(unsure_post_key(self._idem), {"unsure": True})
                raise
            await self._remember("update", "open")
        else:
            if state.old_stream:
                await self._end_old_stream()
            try:
                await self._client.chat_update(
                    channel=self._target.channel, ts=state.ts, text=first.text, blocks=first.blocks
                )
            except (SlackClientError, OSError) as err:
                raise platform_error("chat.update", err) from err
        state.shown = reply.text
        state.unsent_steps.clear()
        parts = [state.ts]
        for i, message in enumerate(
            messages[1:], start=1
        ):  # a reply over Slack's limits: the rest follow in the thread
            parts.append(await self._platform.post_part(self._target.key, message, f"{self._idem}#{i}"))
        return parts

    async def _end_old_stream(self) -> None:
        """A retried turn: the earlier attempt's stream may still be open; end it before replacing its text."""
        await end_stream(
            self._stream_client, self._target.channel, self._state.ts or ""
        )  # raises: the next flush tries again
        self._state.old_stream = False
        await self._remember("update", "open")

    # ---- the end ------------------------------------------------------------------

    async def _final(self, reply: Reply, *, feedback: bool) -> MessageRef:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        async with self._lock:
            if self._refused is not None:
                raise self._refused
            state = self._state
            parts: list[str] | None = None
            if state.mode == "stream":
                parts = await self._stop_stream(reply, feedback)
            if parts is None and state.mode == "idle" and not state.steps:
                # Nothing was shown yet: an ordinary post (a reply that was never streamed gets no feedback buttons).
                ref = await self._platform.post(self._target.key, reply, idempotency_key=self._idem)
                state.ts, parts = ref.message_id, list(ref.extra.get("parts") or [ref.message_id])
                await self._agent.set(self._target, "active")
            elif parts is None:
                state.mode = "update"
                parts = await self._update(reply, final=True, feedback=feedback)
                await self._agent.set(self._target, "active")
            if self._status_shown:
                await self.status("")
            state.mode = "done"
            await self._remember("done", "done")
            key = self._target.key
            return MessageRef(
                key=key, message_id=parts[0], extra={"channel": key.channel, "ts": parts[0], "parts": parts}
            )

    async def _stop_stream(self, reply: Reply, feedback: bool) -> list[str] | None:
        """Finish the open stream; None when the message must be finished with chat.update instead."""
        state = self._state
        rest = _rest_of(state.text[: state.sent], reply)
        same_text = rest is not None
        if rest is not None:
            # Slack shows text[:sent]; a final text that only adds to it is finished in the stream itself.
            state.text, state.sent = state.text[: state.sent] + rest, state.sent
        # The steps end in the stream's own tasks even when chat.update then replaces the text.
        chunks = self._chunks() if same_text else self._chunks(text=False)
        blocks = [feedback_block(self._target.key)] if feedback else []  # steps are the stream's own tasks
        # The same metadata as a post's: thread membership and a retry's lookup recognise the message.
        metadata = post_metadata(f"{self._idem}#0")
        kwargs: dict[str, Any] = {"channel": self._target.channel, "ts": state.ts or "", "metadata": metadata}
        if chunks:
            kwargs["chunks"] = chunks
        if blocks and same_text:
            kwargs["blocks"] = blocks
        if self._agent.enabled:
            kwargs["session_status"] = "active"
        try:
            await self._stream_client.chat_stopStream(**kwargs)
        except SlackApiError as err:
            error = platform_error("chat.stopStream", err)
            if error.retryable and _error_code(err) != NOT_STREAMING:
                raise error from err  # Slack is unwell: the session delivers the reply later, into this message
            log.warning("reply %s: chat.stopStream refused (%s); finishing it with chat.update", self._idem, _why(err))
            return None
        except (SlackClientError, OSError) as err:
            raise platform_error("chat.stopStream", err) from err
        if not same_text or self._stop_shown:
            return None  # the stream is over; chat.update now shows the reply as rendered (without a Stop button)
        state.sent = len(state.text)
        return [state.ts or ""]

    async def _remember(self, mode: str, phase: str) -> None:
        if self._state.ts is None:
            return
        await self._platform.posted.put(
            stream_record_key(self._idem),
            {"channel": self._target.channel, "ts": self._state.ts, "mode": mode, "state": phase},
        )
