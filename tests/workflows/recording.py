"""A ChatPlatform that keeps everything in memory: what the workflows said, where and when.

It sits behind the real PlatformActivities, so the tests exercise the same activities, retry
policies and idempotency keys as production; only the chat service itself is replaced.
``at`` is when the activity attempt was scheduled: the test server's virtual clock, so a test can say
*when* (in workflow time) a reminder or an escalation was posted.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar

from temporalio import activity

from adapters.base import PlatformError
from workflows.contracts import ConversationKey, CreatedChannel, MessageRef, Reply

T = TypeVar("T")


def _virtual_now() -> datetime:
    """When this attempt was scheduled (the server's clock, virtual under time skipping); outside activities: now."""
    if activity.in_activity():
        return activity.info().current_attempt_scheduled_time
    return datetime.now(UTC)


@dataclass
class Post:
    key: ConversationKey
    reply: Reply
    ref: MessageRef
    at: datetime
    idempotency_key: str | None = None

    @property
    def text(self) -> str:
        return self.reply.text


@dataclass
class Update:
    ref: MessageRef
    reply: Reply
    at: datetime


@dataclass
class Channel:
    created: CreatedChannel
    topic: str
    members: list[str]
    like: ConversationKey


@dataclass
class RecordingPlatform:
    """Records posts, updates, channels, topics, pins and private notes; refuses posts while ``outage`` is set."""

    name: str = "slack"
    #: While set, every post raises it (a retryable one stands for the platform being down).
    outage: PlatformError | None = None
    #: Posts refused because of ``outage``.
    refused: int = 0
    posts: list[Post] = field(default_factory=list)
    updates: list[Update] = field(default_factory=list)
    channels: list[Channel] = field(default_factory=list)
    topics: list[tuple[ConversationKey, str]] = field(default_factory=list)
    pins: list[MessageRef] = field(default_factory=list)
    private: list[tuple[ConversationKey, str, str]] = field(default_factory=list)
    _changed: asyncio.Event = field(default_factory=asyncio.Event)

    # ---- the port -----------------------------------------------------------------

    async def post(
        self,
        key: ConversationKey,
        reply: Reply,
        *,
        idempotency_key: str | None = None,
        context: dict[str, Any] | None = None,
    ) -> MessageRef:
        if self.outage is not None:
            self.refused += 1
            raise self.outage
        for earlier in self.posts:  # a retried activity: the same message, not a second one
            if idempotency_key and earlier.idempotency_key == idempotency_key:
                return earlier.ref
        ref = MessageRef(key=key, message_id=f"m{len(self.posts) + 1}")
        self.posts.append(Post(key=key, reply=reply, ref=ref, at=_virtual_now(), idempotency_key=idempotency_key))
        self._changed.set()
        return ref

    async def update(self, ref: MessageRef, reply: Reply) -> None:
        self.updates.append(Update(ref=ref, reply=reply, at=_virtual_now()))
        self._changed.set()

    async def create_channel(
        self, name: str, *, topic: str = "", members: list[str] | None = None, like: ConversationKey
    ) -> CreatedChannel:
        created = CreatedChannel(platform=like.platform, workspace=like.workspace, channel=f"C-{name}", name=name)
        self.channels.append(Channel(created=created, topic=topic, members=list(members or []), like=like))
        self._changed.set()
        return created

    async def set_topic(self, key: ConversationKey, topic: str) -> None:
        self.topics.append((key, topic))
        self._changed.set()

    async def resolve_members(self, ids: list[str], *, like: ConversationKey) -> list[str]:
        return list(ids)

    async def pin(self, ref: MessageRef) -> None:
        self.pins.append(ref)
        self._changed.set()

    async def send_private(self, key: ConversationKey, user_id: str, text: str) -> None:
        self.private.append((key, user_id, text))
        self._changed.set()

    # ---- what tests do -------------------------------------------------------------

    def go_down(self, reason: str) -> None:
        """Refuse every post from now on, as a platform that is down (retryable: 5xx, network)."""
        self.outage = PlatformError(reason, retryable=True)

    def come_back(self) -> None:
        self.outage = None

    # ---- what tests read ----------------------------------------------------------

    def posts_in(self, key: ConversationKey) -> list[Post]:
        return [p for p in self.posts if p.key == key]

    def texts(self, key: ConversationKey | None = None) -> list[str]:
        return [p.text for p in (self.posts if key is None else self.posts_in(key))]

    def posts_saying(self, words: str) -> list[Post]:
        return [p for p in self.posts if words in p.text]

    async def wait_for(self, probe: Callable[[], T], what: str, timeout: float = 30.0) -> T:
        """``probe()`` once it is truthy (re-checked after each recorded call); fails with what was posted."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            self._changed.clear()
            value = probe()
            if value:
                return value
            left = deadline - loop.time()
            if left <= 0:
                raise AssertionError(f"timed out waiting for {what}; posted so far: {self.texts()!r}")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), timeout=left)
