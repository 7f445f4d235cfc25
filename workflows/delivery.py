"""Workflow-side helpers to post and update messages through the platform activities.

A platform whose traits say ``local_delivery`` (the web chat writes to a local
database) gets its posts as local activities (no task-queue round trip). Other
platforms' calls (Slack, Teams) may be slow, rate-limited or down, so they are
normal activities: posts and updates are retried with capped exponential
backoff for the whole platform retry window (THREADWORK_PLATFORM_RETRY_WINDOW, in the
workflow's input); what is still refused after it is reported by ``Poster.undelivered``
(ERROR log line, metric, an entry in the workflow's state), never dropped silently.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError, RetryState

with workflow.unsafe.imports_passed_through():
    from workflows.activities.models import (
        CreateChannelRequest,
        MembersRequest,
        PinRequest,
        PostRequest,
        PrivateRequest,
        TopicRequest,
        UpdateRequest,
    )
    from workflows.activities.platform import PlatformActivities
    from workflows.contracts import (
        DEFAULT_PLATFORM_RETRY_WINDOW,
        ConversationKey,
        CreatedChannel,
        MessageRef,
        Reply,
        Undelivered,
    )
    from workflows.failures import failure_message
    from workflows.platform_traits import PlatformTraits, traits_for

#: What a failed post/update raises in workflow code: ActivityError for a normal activity,
#: the activity's ApplicationError itself for a local one (the web chat). Catch both.
DELIVERY_FAILURES = (ActivityError, ApplicationError)


def failure_reason(err: BaseException) -> str:
    """The platform's own words from a failed (local or normal) activity, and whether the window closed."""
    reason = failure_message(err)
    if isinstance(err, ActivityError) and err.retry_state == RetryState.TIMEOUT:
        return f"still failing when the platform retry window closed: {reason}"
    return reason


PLATFORM_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(seconds=60),
    maximum_attempts=10,
    non_retryable_error_types=["PlatformError"],
)
LOCAL_RETRY = RetryPolicy(initial_interval=timedelta(milliseconds=200), maximum_attempts=5)
#: Longest wait between two attempts of a post/update (shorter for short windows).
MAX_BACKOFF_SECONDS = 60.0
UNDELIVERED_METRIC = "threadwork_undelivered_replies"
UNDELIVERED_TEXT_CHARS = 200


def delivery_retry(window_seconds: float) -> RetryPolicy:
    """Attempts until the window (schedule-to-close) closes, backing off 1 s, 2 s, 4 s... up to a cap.

    A 429's Retry-After replaces the backoff for that attempt (the activity raises with
    ``next_retry_delay``). Permanent refusals (PlatformError) are not retried.
    """
    cap = min(MAX_BACKOFF_SECONDS, max(1.0, window_seconds / 10))
    return RetryPolicy(
        initial_interval=timedelta(seconds=1),
        backoff_coefficient=2.0,
        maximum_interval=timedelta(seconds=cap),
        maximum_attempts=0,
        non_retryable_error_types=["PlatformError"],
    )


class Poster:
    """Numbers this run's posts so each has a stable idempotency key across retries and replays.

    Every method raises one of DELIVERY_FAILURES when the platform refused for good.
    """

    def __init__(
        self, window_seconds: float = DEFAULT_PLATFORM_RETRY_WINDOW, platforms: dict[str, PlatformTraits] | None = None
    ) -> None:
        self._platforms = platforms or {}
        self._seq = 0
        self._window = timedelta(seconds=window_seconds)
        self._retry = delivery_retry(window_seconds)

    def traits(self, platform: str) -> PlatformTraits:
        """The traits of ``platform`` from the workflow's input (workflows/platform_traits.py)."""
        return traits_for(self._platforms, platform)

    def is_local(self, platform: str) -> bool:
        return self.traits(platform).local_delivery

    def next_key(self) -> str:
        self._seq += 1
        info = workflow.info()
        return f"{info.workflow_id}#{info.run_id}#{self._seq}"

    async def post(
        self,
        key: ConversationKey,
        reply: Reply,
        context: dict[str, Any] | None = None,
        idempotency_key: str | None = None,
        late_since: datetime | None = None,
    ) -> MessageRef:
        """``idempotency_key``/``late_since``: a streamed turn's key and when the platform first refused it."""
        req = PostRequest(
            key=key,
            reply=reply,
            idempotency_key=idempotency_key or self.next_key(),
            reply_context=context,
            late_since=late_since,
        )
        return await self._deliver(PlatformActivities.post_reply, req, key.platform)

    async def update(self, ref: MessageRef, reply: Reply, late_since: datetime | None = None) -> None:
        req = UpdateRequest(ref=ref, reply=reply, late_since=late_since)
        await self._deliver(PlatformActivities.update_message, req, ref.key.platform)

    def undelivered(self, err: BaseException, key: ConversationKey, reply: Reply, what: str = "post") -> Undelivered:
        """Say loudly that a reply never reached its conversation: one ERROR line (no traceback), a metric, a record.

        The caller keeps the returned record in its state (``sessions show`` shows it).
        """
        reason = failure_reason(err)
        where = key.session_id()
        workflow.logger.error("%s to %s undelivered, given up: %s", what, where, reason)
        counter = workflow.metric_meter().create_counter(
            UNDELIVERED_METRIC,
            "Slack/Teams posts and updates given up after the platform retry window or refused for good",
        )
        counter.add(1, {"platform": key.platform, "what": what})
        return Undelivered(
            at=workflow.now(), conversation=where, what=what, text=reply.text[:UNDELIVERED_TEXT_CHARS], reason=reason
        )

    async def create_channel(self, req: CreateChannelRequest, retry: RetryPolicy | None = None) -> CreatedChannel:
        """Open a conversation; ``retry`` lets a caller give up sooner (and fall back) than posts do."""
        return await workflow.execute_activity_method(
            PlatformActivities.create_channel,
            req,
            start_to_close_timeout=timedelta(seconds=30),
            schedule_to_close_timeout=timedelta(minutes=5),
            retry_policy=retry or PLATFORM_RETRY,
        )

    async def resolve_members(self, like: ConversationKey, ids: list[str]) -> list[str]:
        """Configured ids as user ids (a Slack user group becomes its members)."""
        req = MembersRequest(like=like, ids=ids)
        return await self._run(PlatformActivities.resolve_members, req, like.platform, timedelta(minutes=2))

    async def set_topic(self, key: ConversationKey, topic: str) -> None:
        await self._run(PlatformActivities.set_topic, TopicRequest(key=key, topic=topic), key.platform)

    async def pin(self, ref: MessageRef) -> None:
        await self._run(PlatformActivities.pin_message, PinRequest(ref=ref), ref.key.platform)

    async def send_private(self, key: ConversationKey, user_id: str, text: str) -> None:
        await self._run(
            PlatformActivities.send_private, PrivateRequest(key=key, user_id=user_id, text=text), key.platform
        )

    async def _deliver(self, method: Any, arg: Any, platform: str) -> Any:
        """A post or update: retried for the whole platform retry window."""
        if self.is_local(platform):
            return await self._run(method, arg, platform)
        return await workflow.execute_activity_method(
            method,
            arg,
            start_to_close_timeout=timedelta(seconds=30),
            schedule_to_close_timeout=self._window,
            retry_policy=self._retry,
        )

    async def _run(self, method: Any, arg: Any, platform: str, give_up_after: timedelta = timedelta(minutes=5)) -> Any:
        """A local activity for local platforms, else a normal one with the platform retry policy."""
        if self.is_local(platform):
            return await workflow.execute_local_activity_method(
                method, arg, start_to_close_timeout=timedelta(seconds=10), retry_policy=LOCAL_RETRY
            )
        return await workflow.execute_activity_method(
            method,
            arg,
            start_to_close_timeout=timedelta(seconds=30),
            schedule_to_close_timeout=give_up_after,
            retry_policy=PLATFORM_RETRY,
        )
