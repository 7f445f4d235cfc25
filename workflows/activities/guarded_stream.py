"""A ReplyStream wrapper that keeps a turn going when the platform refuses to show it.

The model's answer is worth keeping even when Slack or Teams is down: after the first
PlatformError the wrapper stops calling the platform, the turn finishes producing the
reply, and the workflow delivers it through its Poster (retried for the platform retry
window, with the same idempotency key, so still one message).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import TypeVar

from workflows.contracts import MessageRef, Reply
from workflows.platform_port import PlatformError, ReplyStream
from workflows.stream_contracts import StepState

log = logging.getLogger(__name__)
T = TypeVar("T")


class GuardedStream:
    def __init__(self, inner: ReplyStream | None, failed: PlatformError | None = None) -> None:
        """``inner`` None: the platform has no stream; the session posts the reply after the turn."""
        self.inner = inner
        #: The platform's refusal, once there was one (or opening the stream failed): nothing more is sent to it.
        self.failed = failed
        #: When the platform first refused.
        self.failed_at: datetime | None = datetime.now(UTC) if failed is not None else None
        #: Something may be shown already (a placeholder, part of the text): the final delivery updates it.
        self.touched = False

    async def _call(self, what: str, call: Callable[[ReplyStream], Awaitable[T]]) -> T | None:
        if self.failed is not None or self.inner is None:
            return None
        self.touched = True
        try:
            return await call(self.inner)
        except PlatformError as err:
            log.warning("streaming %s refused; the reply is delivered after the turn instead: %s", what, err)
            self.failed = err
            self.failed_at = datetime.now(UTC)
            return None

    async def status(self, text: str) -> None:
        await self._call("status", lambda s: s.status(text))

    async def append(self, delta: str) -> None:
        await self._call("text", lambda s: s.append(delta))

    async def step(self, step_id: str, title: str, state: StepState) -> None:
        await self._call("step", lambda s: s.step(step_id, title, state))

    async def finish(self, reply: Reply) -> MessageRef | None:
        return await self._call("final message", lambda s: s.finish(reply))

    async def stop(self, note: str) -> MessageRef | None:
        return await self._call("stop", lambda s: s.stop(note))
