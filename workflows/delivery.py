"""Workflow-side helpers to post and update messages through the platform activities.

The web chat writes to a local database, so its posts run as local activities (no
task-queue round trip). Slack and Teams calls may be slow or rate-limited, so they
are normal activities with a retry policy.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

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
    from workflows.contracts import ConversationKey, CreatedChannel, MessageRef, Reply

LOCAL_PLATFORMS = {"webchat"}

#: What a failed post/update raises in workflow code: ActivityError for a normal activity,
#: the activity's ApplicationError itself for a local one (the web chat). Catch both.
DELIVERY_FAILURES = (ActivityError, ApplicationError)


def failure_reason(err: BaseException) -> str:
    """The platform's own words from a failed (local or normal) activity."""
    cause = err.cause if isinstance(err, ActivityError) else err
    return cause.message if isinstance(cause, ApplicationError) else str(cause or err)


PLATFORM_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(seconds=60),
    maximum_attempts=10,
    non_retryable_error_types=["PlatformError"],
)
LOCAL_RETRY = RetryPolicy(initial_interval=timedelta(milliseconds=200), maximum_attempts=5)


class Poster:
    """Numbers this run's posts so each has a stable idempotency key across retries and replays.

    Every method raises one of DELIVERY_FAILURES when the platform refused for good.
    """

    def __init__(self) -> None:
        self._seq = 0

    def next_key(self) -> str:
        self._seq += 1
        info = workflow.info()
        return f"{info.workflow_id}#{info.run_id}#{self._seq}"

    async def post(
        self, key: ConversationKey, reply: Reply, context: dict[str, Any] | None = None
    ) -> MessageRef:
        req = PostRequest(key=key, reply=reply, idempotency_key=self.next_key(), reply_context=context)
        return await self._run(PlatformActivities.post_reply, req, key.platform, timedelta(minutes=15))

    async def update(self, ref: MessageRef, reply: Reply) -> None:
        req = UpdateRequest(ref=ref, reply=reply)
        await self._run(PlatformActivities.update_message, req, ref.key.platform, timedelta(minutes=15))

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
        await self._run(PlatformActivities.send_private, PrivateRequest(key=key, user_id=user_id, text=text), key.platform)

    async def _run(self, method: Any, arg: Any, platform: str, give_up_after: timedelta = timedelta(minutes=5)) -> Any:
        """A local activity for local platforms, else a normal one with the platform retry policy."""
        if platform in LOCAL_PLATFORMS:
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
