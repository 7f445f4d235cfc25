"""The platform port: what the core needs from any chat platform, and what adapters hand it.

Outbound, activities call a ``ChatPlatform`` (looked up by name in a ``PlatformRegistry``)
with platform-neutral contracts; each adapter package implements it with its own SDK.
Inbound, adapters hand messages and clicks to a ``SessionDispatcher`` (bots/dispatch.py)
and get a ``Delivery`` back (adapters/user_notice.py turns it into what the user hears).
``idempotency_key`` lets an adapter recognise a post that an activity retry sends again
(docs/architecture.md, "exactly once").
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

from workflows.activities.fetchers import Fetcher
from workflows.contracts import (
    ActionEvent,
    ActionResult,
    Actor,
    ChatMessage,
    ConversationKey,
    CreatedChannel,
    MessageRef,
    Reply,
    SessionState,
    TriggerRequest,
)
from workflows.platform_traits import PlatformTraits
from workflows.stream_contracts import StepState, StopResult


class PlatformError(Exception):
    """The platform refused (bad channel, missing permission). ``retryable`` says if a retry may help."""

    def __init__(self, message: str, *, retryable: bool = False, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retryable = retryable
        #: Seconds the platform asked us to wait (a 429's Retry-After); the next attempt waits that long.
        self.retry_after = retry_after


@runtime_checkable
class ReplyStream(Protocol):
    """One bot message that grows while a turn runs; finished exactly once (docs/assistant.md).

    The streaming turn activity (workflows/activities/streaming_turn.py) drives it; the
    tokens go from there to the platform and never through workflow history. An adapter
    buffers and throttles ``append`` (a few platform updates per second at most) and keeps
    the cumulative text, so ``finish``/``stop`` need no text of their own beyond the reply.
    """

    async def status(self, text: str) -> None:
        """Show what the turn is doing ("thinking…", "searching documents…"); may be a no-op."""
        ...

    async def append(self, delta: str) -> None:
        """The next text chunk (the adapter keeps the cumulative text)."""
        ...

    async def step(self, step_id: str, title: str, state: StepState) -> None:
        """A work step ("channel created"): pending | in_progress | complete | error; may be a no-op."""
        ...

    async def finish(self, reply: Reply) -> MessageRef:
        """The final message (full text, blocks and buttons): exactly one message in the conversation."""
        ...

    async def stop(self, note: str) -> MessageRef:
        """Stop was pressed: finalize with the text so far followed by ``note``."""
        ...


@runtime_checkable
class ChatPlatform(Protocol):
    name: str

    async def post(
        self,
        key: ConversationKey,
        reply: Reply,
        *,
        idempotency_key: str | None = None,
        context: dict[str, Any] | None = None,
    ) -> MessageRef:
        """Post ``reply`` into the conversation (thread) of ``key``.

        ``context`` is the ChatMessage.reply_context the adapter attached to the
        conversation's latest message (e.g. a Teams ConversationReference).
        """
        ...

    async def update(self, ref: MessageRef, reply: Reply) -> None:
        """Replace a message this bot posted earlier."""
        ...

    async def create_channel(
        self, name: str, *, topic: str = "", members: list[str] | None = None, like: ConversationKey
    ) -> CreatedChannel:
        """Open a new conversation (incident channel) in the workspace of ``like``.

        The answer carries the name the platform really gave it (a taken name gets a suffix).
        """
        ...

    async def set_topic(self, key: ConversationKey, topic: str) -> None:
        """Replace the topic of a conversation this bot opened (a documented no-op where there is none)."""
        ...

    async def resolve_members(self, ids: list[str], *, like: ConversationKey) -> list[str]:
        """Configured member ids as user ids: a platform's groups (a Slack user group) become their members."""
        ...

    async def pin(self, ref: MessageRef) -> None:
        """Pin a posted message where the platform can (a no-op where it cannot)."""
        ...

    async def send_private(self, key: ConversationKey, user_id: str, text: str) -> None:
        """Say something only ``user_id`` sees in that conversation (refusals, errors)."""
        ...


@runtime_checkable
class StreamingPlatform(ChatPlatform, Protocol):
    """A ChatPlatform that can grow one message while a turn runs (issue 13; optional: a platform
    without it gets its reply posted whole by the session)."""

    async def open_stream(
        self,
        key: ConversationKey,
        idempotency_key: str,
        recipient: Actor | None,
        *,
        context: dict[str, Any] | None = None,
    ) -> ReplyStream:
        """A streamed reply in the conversation of ``key``, for ``recipient`` (Slack needs the user outside DMs).

        Exactly once: a key that already started a message (a retried activity) continues or
        replaces THAT message, text restarting from the beginning, never a second one. A
        surface without streaming, or a stream refused or expired, falls back to
        post-then-update (adapters/stream_fallback.py), still one message. ``context`` is the
        conversation's reply_context, as for ``post``.
        """
        ...


class PlatformRegistry:
    """Platform name -> adapter instance (and its traits), shared by the gateway and the worker's activities."""

    def __init__(self) -> None:
        self._platforms: dict[str, ChatPlatform] = {}
        self._traits: dict[str, PlatformTraits] = {}
        self._fetchers: dict[str, Fetcher] = {}

    def register(
        self, platform: ChatPlatform, traits: PlatformTraits | None = None, fetchers: dict[str, Fetcher] | None = None
    ) -> None:
        """``fetchers``: how the worker reads files attached on this platform, by FileRef.source."""
        self._platforms[platform.name] = platform
        if traits is not None:
            self._traits[platform.name] = traits
        self._fetchers.update(fetchers or {})

    def get(self, name: str) -> ChatPlatform:
        try:
            return self._platforms[name]
        except KeyError:
            raise PlatformError(
                f"no adapter for platform {name!r} is configured in this worker "
                f"(configured: {', '.join(sorted(self._platforms)) or 'none'})"
            ) from None

    def names(self) -> list[str]:
        return sorted(self._platforms)

    def fetchers(self) -> dict[str, Fetcher]:
        """The registered platforms' document sources (FileRef.source -> fetcher)."""
        return dict(self._fetchers)

    def traits(self) -> dict[str, PlatformTraits]:
        """The declared traits of every registered platform (what workflow inputs carry)."""
        return dict(self._traits)


class Delivery:
    """What happened to an inbound message; adapters turn it into their platform's answer."""

    ACCEPTED = "accepted"  # the session took it; the reply follows through the platform
    DUPLICATE = "duplicate"  # already handled (platform retry): nothing more to do
    INVALID = "invalid"  # refused (empty, too long...): ``detail`` says why
    QUEUED = "queued"  # kept durably; the gateway delivers it when Temporal takes it (bots/inbound_queue.py)
    UNAVAILABLE = "unavailable"  # not even queued (the queue itself failed): tell the user plainly

    def __init__(self, status: str, session_id: str, detail: str = "", *, notify: bool = False) -> None:
        self.status = status
        self.session_id = session_id
        self.detail = detail
        #: QUEUED only: the first queued message of this thread in this outage, so say so (once).
        self.notify = notify

    def __repr__(self) -> str:
        return f"Delivery({self.status!r}, {self.session_id!r}, {self.detail!r}, notify={self.notify})"


class SessionDispatcher(Protocol):
    """What adapters call to hand over messages and clicks (implemented in bots/dispatch.py)."""

    async def deliver(self, msg: ChatMessage) -> Delivery: ...

    async def act(self, workflow_id: str, event: ActionEvent) -> ActionResult: ...

    async def trigger(self, key: ConversationKey, request: TriggerRequest) -> Delivery:
        """Start a named workflow from the conversation of ``key`` (slash commands), starting the session if needed."""
        ...

    async def has_session(self, session_id: str) -> bool:
        """Whether that session was ever started (running or closed): thread replies without a mention need one."""
        ...

    async def session_state(self, session_id: str) -> SessionState | None:
        """The session's state, or None when there is no such session."""
        ...

    async def incident_action(self, key: ConversationKey, event: ActionEvent) -> ActionResult | None:
        """Send ``event`` to the incident running in ``key``'s channel (None: no incident there)."""
        ...

    async def stop_turn(self, session_id: str, actor: Actor, request_id: str = "") -> StopResult:
        """A platform's Stop control: cancel the turn the session is running (``stopped`` False: none ran).

        ``request_id`` (the platform's event id) dedupes a repeated press.
        """
        ...
