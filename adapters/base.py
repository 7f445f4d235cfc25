"""Adapter-side helpers, and the names adapters used to import from here.

The port itself (ChatPlatform, ReplyStream, PlatformError, PlatformRegistry, Delivery,
SessionDispatcher)
lives in the core, workflows/platform_port.py; the delivery-to-user policy in
adapters/user_notice.py. They are re-exported here so existing imports keep working.
"""

from __future__ import annotations

from typing import Any

from temporalio import activity

from adapters.user_notice import CATCHING_UP_TEXT, UNAVAILABLE_TEXT, Notice, notice_for
from workflows.platform_port import (
    ChatPlatform,
    Delivery,
    PlatformError,
    PlatformRegistry,
    ReplyStream,
    SessionDispatcher,
    StreamingPlatform,
)
from workflows.stream_contracts import StepState, StopResult

__all__ = [
    "CATCHING_UP_TEXT",
    "UNAVAILABLE_TEXT",
    "ChatPlatform",
    "Delivery",
    "Notice",
    "PlatformError",
    "PlatformRegistry",
    "ReplyStream",
    "SessionDispatcher",
    "StepState",
    "StopResult",
    "StreamingPlatform",
    "in_local_activity",
    "notice_for",
    "retry_after",
]


def retry_after(headers: Any) -> float | None:
    """A Retry-After header in seconds (Slack sends whole seconds), else None."""
    for name, value in (headers or {}).items():
        if name.lower() == "retry-after":
            raw = value[0] if isinstance(value, list) and value else value
            try:
                return max(0.0, float(raw))
            except (TypeError, ValueError):
                return None
    return None


def in_local_activity() -> bool:
    """Called from the turn's fast path (its local activity): a key of its own, never streamed."""
    return activity.in_activity() and activity.info().is_local
