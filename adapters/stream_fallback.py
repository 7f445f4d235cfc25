"""A ReplyStream over plain post + update: the fallback every adapter can use (and the web chat's stream).

The first call posts a placeholder with the stream's idempotency key; later calls update
that one message, at most once per ``interval`` (the text is buffered here in between);
``finish``/``stop`` write the final message. A retried activity posts with the same key,
gets the message its earlier attempt posted (the web chat store and the Slack/Teams
PostedLog remember keys) and rewrites it from the beginning: still one message.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from adapters.base import ChatPlatform
from workflows.contracts import ConversationKey, MessageRef, Reply, TextBlock
from workflows.stream_contracts import StepState

log = logging.getLogger(__name__)

#: Seconds between two updates of a growing message.
DEFAULT_INTERVAL = 0.5
PLACEHOLDER = "…"
STEP_MARKS = {"pending": "○", "in_progress": "…", "complete": "✓", "error": "✗"}


def steps_text(steps: dict[str, tuple[str, StepState]]) -> str:
    """The steps as a checklist, one line each."""
    return "\n".join(f"{STEP_MARKS.get(state, '…')} {title}" for title, state in steps.values())


def with_steps(reply: Reply, steps: dict[str, tuple[str, StepState]]) -> Reply:
    """The final message keeps the steps it showed (a child's progress), as a checklist above the reply."""
    if not steps:
        return reply
    body = reply.blocks or [TextBlock(text=reply.text)]
    return Reply(text=reply.text, blocks=[TextBlock(text=steps_text(steps), style="context"), *body])


class PostThenUpdateStream:
    """One message, posted on the first event and updated while the reply grows."""

    def __init__(
        self,
        platform: ChatPlatform,
        key: ConversationKey,
        idempotency_key: str,
        *,
        context: dict[str, Any] | None = None,
        interval: float = DEFAULT_INTERVAL,
    ) -> None:
        self.platform = platform
        self.key = key
        self.idempotency_key = idempotency_key
        self.context = context
        self.interval = interval
        self.text = ""
        self.status_text = ""
        self.steps: dict[str, tuple[str, StepState]] = {}
        self.ref: MessageRef | None = None
        self._last_write = 0.0
        self._dirty = False
        self._finished = False
        self._lock = asyncio.Lock()
        #: A write held back by the interval, due when it is up (a step that changes between two
        #: events, e.g. a child's progress, still shows).
        self._later: asyncio.Task[None] | None = None

    # ---- ReplyStream --------------------------------------------------------

    async def status(self, text: str) -> None:
        self.status_text = text
        await self._write(force=self.ref is None)

    async def append(self, delta: str) -> None:
        first = not self.text
        self.text += delta
        await self._write(force=first and bool(self.text))  # the first words show at once

    async def step(self, step_id: str, title: str, state: StepState) -> None:
        self.steps[step_id] = (title, state)
        await self._write()

    async def finish(self, reply: Reply) -> MessageRef:
        return await self._final(reply)

    async def stop(self, note: str) -> MessageRef:
        if not self.text.strip():
            # Nothing of its own (a turn stopped between two attempts): keep what the message shows.
            self.text = await self.earlier_text()
        text = f"{self.text.rstrip()}\n\n{note}" if self.text.strip() else note
        return await self._final(Reply(text=text))

    async def earlier_text(self) -> str:
        """What an earlier attempt's message under this key shows; "" when the platform cannot say."""
        return ""

    # ---- rendering (subclasses show status and steps their way) ----------------

    def interim(self) -> Reply:
        """The message while the reply grows: the text so far, or the status, or a placeholder."""
        body = self.text or self.status_text or PLACEHOLDER
        return Reply(text=f"{steps_text(self.steps)}\n{body}" if self.steps else body)

    # ---- writing -------------------------------------------------------------

    async def _write(self, force: bool = False) -> None:
        self._dirty = True
        wait = self._last_write + self.interval - time.monotonic()
        if force or wait <= 0:
            async with self._lock:
                if not self._finished:
                    await self._send(self.interim())
            return
        if self._later is None:
            self._later = asyncio.get_running_loop().create_task(self._write_later(wait))

    async def _write_later(self, wait: float) -> None:
        await asyncio.sleep(wait)
        self._later = None  # past this point the final message waits for this write instead of cancelling it
        async with self._lock:
            if self._finished or not self._dirty:
                return
            try:
                await self._send(self.interim())
            except Exception as err:  # nobody awaits this task: the next write or the final message tries again
                log.warning("updating the growing message in %s failed: %s", self.key.session_id(), err)

    async def _send(self, reply: Reply) -> MessageRef:
        # A retried attempt's first post gets its earlier message back (with that attempt's
        # text): the next update or the final message rewrites it.
        if self.ref is None:
            self.ref = await self.write_new(reply, final=False)
        else:
            await self.write_update(self.ref, reply, final=False)
        self._last_write = time.monotonic()
        self._dirty = False
        return self.ref

    async def _final(self, reply: Reply) -> MessageRef:
        if self._later is not None:
            self._later.cancel()
            self._later = None
        reply = with_steps(reply, self.steps)
        async with self._lock:
            self._finished = True
            if self.ref is None:
                self.ref = await self.write_new(reply, final=True)
            # Also after a first post: the key may have returned an earlier attempt's message.
            await self.write_update(self.ref, reply, final=True)
            self._dirty = False
            return self.ref

    # ---- the platform calls (a subclass may write its own way) ------------------

    async def write_new(self, reply: Reply, final: bool) -> MessageRef:
        return await self.platform.post(self.key, reply, idempotency_key=self.idempotency_key, context=self.context)

    async def write_update(self, ref: MessageRef, reply: Reply, final: bool) -> None:
        await self.platform.update(ref, reply)
