"""A reply that reaches its conversation late says so, in one short italic line.

Decided inside the post activity from its own schedule time (activity.info()), so the
workflow stays deterministic and the note is exact for the attempt that succeeds.
"""

from __future__ import annotations

from datetime import UTC, datetime

from workflows.contracts import Reply, TextBlock
from workflows.platform_traits import PlatformTraits

#: Below this delay a reply is not called late (one quick retry is not worth a note).
LATE_AFTER_SECONDS = 10.0


def describe_delay(seconds: float) -> str:
    if seconds < 90:
        return f"{round(seconds)} s"
    if seconds < 90 * 60:
        return f"{round(seconds / 60)} min"
    return f"{seconds / 3600:.1f} h"


def late_note(platform: PlatformTraits, seconds: float) -> str:
    return f"_(delayed: {platform.label()} was unreachable for {describe_delay(seconds)})_"


def delay_since(scheduled: datetime, now: datetime | None = None) -> float:
    now = now or datetime.now(UTC)
    return max(0.0, (now - scheduled).total_seconds())


def with_late_note(reply: Reply, platform: PlatformTraits, seconds: float) -> Reply:
    """``reply`` unchanged when on time (a local write is never late), else with the note after its text and blocks."""
    if seconds < LATE_AFTER_SECONDS or platform.local_delivery:
        return reply
    note = late_note(platform, seconds)
    blocks = [*reply.blocks, TextBlock(text=note, style="context")] if reply.blocks else []
    return reply.model_copy(update={"text": f"{reply.text}\n{note}", "blocks": blocks})
