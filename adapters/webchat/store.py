"""The web chat store's interface: channels, messages, the event log the live stream reads, invites.

Two backends implement it: SQLite in the data dir (store_sqlite.py, the default for
`threadwork dev`) and PostgreSQL (store_postgres.py, THREADWORK_DATABASE_URL) so that
any gateway and any worker share it. Adapter code sees only this class. Bot posts carry
an idempotency key, so an activity retried after a crash cannot post twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import uuid
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any

DEFAULT_CHANNELS = [
    ("general", "general", "Talk to threadwork here"),
    ("incidents", "incidents", "Incident channels are announced here"),
]
_SLUG = re.compile(r"[^a-z0-9_-]+")


def new_id() -> str:
    return uuid.uuid4().hex[:16]


def slug(name: str) -> str:
    return _SLUG.sub("-", name.lower()).strip("-")[:80] or "channel"


def channel_candidates(name: str) -> list[str]:
    """Ids to try, in order, for a channel named like ``name`` (a taken name gets a numeric suffix)."""
    base = slug(name)
    return [base if n == 1 else f"{base[:76]}-{n}" for n in range(1, 1000)]


@dataclass(frozen=True)
class Handover:
    """A user's message that was stored but not yet handed to the inbound queue (``body``: its ChatMessage JSON)."""

    message_id: str
    body: str
    replays: int


@dataclass(frozen=True)
class InviteRow:
    name: str
    expires_at: float
    used_at: float | None


class WebChatStore(ABC):
    """Shared by gateways (browsers' messages, the live stream) and workers (bot posts)."""

    def __init__(self) -> None:
        self._changed = asyncio.Event()

    @abstractmethod
    async def open(self) -> None: ...

    @abstractmethod
    async def close(self) -> None: ...

    def _notify(self) -> None:
        """Wake this process's streams (another process's writes arrive by polling or NOTIFY)."""
        self._changed.set()
        self._changed = asyncio.Event()

    async def wait_for_change(self, timeout: float) -> None:
        """Wake on a change, or after ``timeout`` at the latest."""
        changed = self._changed  # a change made while _before_wait runs still wakes this wait
        await self._before_wait()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(changed.wait(), timeout)

    async def _before_wait(self) -> None:  # noqa: B027 - a hook: a backend that needs nothing keeps this no-op
        """A backend's chance to make sure other processes' changes will wake the wait."""

    # ---- channels ----
    @abstractmethod
    async def channels(self) -> list[dict[str, Any]]: ...

    @abstractmethod
    async def channel_exists(self, channel: str) -> bool: ...

    @abstractmethod
    async def ensure_channel(self, channel: str, topic: str = "") -> None:
        """Make sure a channel with exactly this id exists (configured channels such as the events channel)."""

    @abstractmethod
    async def create_channel(self, name: str, topic: str = "") -> dict[str, Any]:
        """Create a channel named like ``name``; a taken name gets a numeric suffix."""

    @abstractmethod
    async def set_topic(self, channel: str, topic: str) -> bool:
        """Replace a channel's topic; False when there is no such channel."""

    # ---- messages ----
    @abstractmethod
    async def add_message(
        self,
        *,
        channel: str,
        thread: str | None,
        user: str,
        text: str,
        is_bot: bool = False,
        blocks: list[dict[str, Any]] | None = None,
        message_id: str | None = None,
        idempotency_key: str | None = None,
        files: list[dict[str, Any]] | None = None,
        handover: str | None = None,
    ) -> dict[str, Any]:
        """Insert a message (a new thread when ``thread`` is None); an idempotency key seen before returns the earlier message.

        ``handover`` (a user's message: its ChatMessage JSON) is kept in the same transaction until
        ``handed_over``, so a gateway that dies between storing and queueing leaves it for another
        gateway to hand over (adapters/webchat/handover.py).
        """

    @abstractmethod
    async def handed_over(self, message_id: str) -> None:
        """The inbound queue (or the session) has the message: forget its hand-over."""

    @abstractmethod
    async def take_unhanded(self, older_than: float, limit: int) -> list[Handover]:
        """Hand-overs left for longer than ``older_than`` seconds (their gateway stopped, or is very slow).

        Each is stamped with the current time and its replay count raised, so another gateway
        does not take it again before ``older_than`` has passed once more.
        """

    @abstractmethod
    async def update_message(
        self, message_id: str, text: str, blocks: list[dict[str, Any]]
    ) -> dict[str, Any] | None: ...

    @abstractmethod
    async def get_message(self, message_id: str) -> dict[str, Any] | None: ...

    @abstractmethod
    async def messages(self, channel: str, thread: str | None = None) -> list[dict[str, Any]]: ...

    @abstractmethod
    async def last_event_seq(self) -> int: ...

    @abstractmethod
    async def events_after(self, seq: int, limit: int = 200) -> list[tuple[int, str, dict[str, Any]]]:
        """Events in commit order: a reader that saw ``seq`` never misses a later-committed smaller one."""

    # ---- invites (adapters/webchat/invites.py keeps the rules) ----
    @abstractmethod
    async def add_invite(self, token_hash: str, name: str, created_at: float, expires_at: float) -> None: ...

    @abstractmethod
    async def redeem_invite(self, token_hash: str, now: float) -> tuple[bool, InviteRow | None]:
        """Mark an unused, unexpired invite used in one statement; (redeemed now, the row as it is after)."""

    @abstractmethod
    async def revoke_member(self, name: str, now: float) -> int:
        """Delete ``name``'s unused invites and record that its sign-ins before ``now`` no longer count;
        the number of links deleted."""

    @abstractmethod
    async def revocations(self) -> dict[str, float]:
        """Member name -> when it was last revoked."""
