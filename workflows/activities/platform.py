"""Posting through the ChatPlatform of a conversation's platform."""

from __future__ import annotations

import logging
from datetime import timedelta

from temporalio import activity
from temporalio.exceptions import ApplicationError, ApplicationErrorCategory

from workflows.activities.late_note import delay_since, with_late_note
from workflows.activities.models import (
    CreateChannelRequest,
    MembersRequest,
    PinRequest,
    PostRequest,
    PrivateRequest,
    TopicRequest,
    UpdateRequest,
)
from workflows.contracts import CreatedChannel, MessageRef, Reply
from workflows.platform_port import PlatformError, PlatformRegistry
from workflows.platform_traits import PlatformTraits, traits_for

log = logging.getLogger(__name__)


def _as_temporal(err: PlatformError) -> ApplicationError:
    """The refusal as Temporal's error: one WARNING line here, no traceback from the SDK (BENIGN).

    "PlatformError" is in the retry policy's non_retryable_error_types, so a failure that
    waiting may fix (429s after the client's own retries, 5xx, network) needs another type.
    A 429's Retry-After replaces the policy's backoff for the next attempt.
    """
    info = activity.info() if activity.in_activity() else None
    where = f"{info.activity_type} for {info.workflow_id} (attempt {info.attempt})" if info else "platform call"
    if err.retryable:
        log.warning("%s failed, will retry: %s", where, err)
        delay = timedelta(seconds=err.retry_after) if err.retry_after else None
        return ApplicationError(
            str(err), type="PlatformRetryableError", next_retry_delay=delay, category=ApplicationErrorCategory.BENIGN
        )
    log.warning("%s refused for good: %s", where, err)
    return ApplicationError(
        str(err), type="PlatformError", non_retryable=True, category=ApplicationErrorCategory.BENIGN
    )


def _late(req: PostRequest, traits: PlatformTraits) -> Reply:
    """The reply, with a short note when this attempt runs well after the post was first scheduled
    (or, for a streamed reply the platform refused, after it was first refused)."""
    if not activity.in_activity() or (req.late_since is None and activity.info().attempt <= 1):
        return req.reply
    since = req.late_since or activity.info().scheduled_time
    return with_late_note(req.reply, traits, delay_since(since))


class PlatformActivities:
    def __init__(self, registry: PlatformRegistry) -> None:
        self._registry = registry

    @activity.defn
    async def post_reply(self, req: PostRequest) -> MessageRef:
        try:
            return await self.post_now(req)
        except PlatformError as err:
            raise _as_temporal(err) from None

    async def post_now(self, req: PostRequest) -> MessageRef:
        """post_reply's work, raising the platform's PlatformError as is (the turn's fast path tries it once)."""
        platform = self._registry.get(req.key.platform)
        late = _late(req, traits_for(self._registry.traits(), req.key.platform))
        return await platform.post(req.key, late, idempotency_key=req.idempotency_key, context=req.reply_context)

    @activity.defn
    async def update_message(self, req: UpdateRequest) -> None:
        try:
            reply = req.reply
            if req.late_since is not None:
                traits = traits_for(self._registry.traits(), req.ref.key.platform)
                reply = with_late_note(reply, traits, delay_since(req.late_since))
            await self._registry.get(req.ref.key.platform).update(req.ref, reply)
        except PlatformError as err:
            raise _as_temporal(err) from None

    @activity.defn
    async def create_channel(self, req: CreateChannelRequest) -> CreatedChannel:
        try:
            created = await self._registry.get(req.like.platform).create_channel(
                req.name, topic=req.topic, members=req.members, like=req.like
            )
        except PlatformError as err:
            raise _as_temporal(err) from None
        # A platform that answers a bare key: the requested name is the best we know.
        return created if isinstance(created, CreatedChannel) else CreatedChannel(**created.model_dump(), name=req.name)

    @activity.defn
    async def set_topic(self, req: TopicRequest) -> None:
        try:
            await self._registry.get(req.key.platform).set_topic(req.key, req.topic)
        except PlatformError as err:
            raise _as_temporal(err) from None

    @activity.defn
    async def resolve_members(self, req: MembersRequest) -> list[str]:
        try:
            return await self._registry.get(req.like.platform).resolve_members(req.ids, like=req.like)
        except PlatformError as err:
            raise _as_temporal(err) from None

    @activity.defn
    async def pin_message(self, req: PinRequest) -> None:
        try:
            await self._registry.get(req.ref.key.platform).pin(req.ref)
        except PlatformError as err:
            raise _as_temporal(err) from None

    @activity.defn
    async def send_private(self, req: PrivateRequest) -> None:
        try:
            await self._registry.get(req.key.platform).send_private(req.key, req.user_id, req.text)
        except PlatformError as err:
            raise _as_temporal(err) from None
