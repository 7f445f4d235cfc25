"""The pieces of platform retries that need no server: backoff, Retry-After, the late note."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from adapters.base import PlatformError, retry_after
from workflows.activities.late_note import delay_since, with_late_note
from workflows.activities.platform import _as_temporal
from workflows.contracts import Reply, TextBlock
from workflows.delivery import delivery_retry
from workflows.platform_traits import LEGACY_TRAITS


def test_backoff_is_capped_at_a_minute_or_a_tenth_of_a_short_window():
    assert delivery_retry(3600).maximum_interval == timedelta(seconds=60)
    assert delivery_retry(90).maximum_interval == timedelta(seconds=9)
    assert delivery_retry(5).maximum_interval == timedelta(seconds=1)
    assert delivery_retry(3600).maximum_attempts == 0  # the window (schedule-to-close) bounds it
    assert delivery_retry(3600).non_retryable_error_types == ["PlatformError"]


def test_retry_after_becomes_the_next_attempts_delay():
    assert retry_after({"Retry-After": ["7"]}) == 7.0
    assert retry_after({"retry-after": "2"}) == 2.0
    assert retry_after({"Retry-After": "soon"}) is None
    assert retry_after(None) is None
    err = _as_temporal(PlatformError("Slack chat.postMessage failed: ratelimited", retryable=True, retry_after=7))
    assert err.type == "PlatformRetryableError" and err.next_retry_delay == timedelta(seconds=7)
    final = _as_temporal(PlatformError("Slack chat.postMessage failed: channel_not_found"))
    assert final.type == "PlatformError" and final.non_retryable and final.next_retry_delay is None


def test_a_late_reply_says_so_once_in_its_text_and_its_blocks():
    reply = Reply(text="Hello", blocks=[TextBlock(text="Hello")])
    assert with_late_note(reply, LEGACY_TRAITS["slack"], 5) == reply
    assert with_late_note(reply, LEGACY_TRAITS["webchat"], 600) == reply
    late = with_late_note(reply, LEGACY_TRAITS["slack"], 7 * 60)
    assert late.text == "Hello\n_(delayed: Slack was unreachable for 7 min)_"
    assert late.blocks[-1] == TextBlock(text="_(delayed: Slack was unreachable for 7 min)_", style="context")
    teams_late = with_late_note(Reply(text="Hi"), LEGACY_TRAITS["teams"], 42)
    assert teams_late.text.endswith("_(delayed: Teams was unreachable for 42 s)_")
    now = datetime(2026, 1, 1, tzinfo=UTC)
    assert delay_since(now - timedelta(minutes=3), now) == 180
