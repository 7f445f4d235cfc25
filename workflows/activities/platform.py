"""Posting through the ChatPlatform of a conversation's platform."""

from __future__ import annotations

from temporalio import activity
from temporalio.exceptions import ApplicationError

from adapters.base import PlatformError, PlatformRegistry
from workflows.activities.models import (
    CreateChannelRequest,
    MembersRequest,
    PinRequest,
    PostRequest,
    PrivateRequest,
    TopicRequest,
    UpdateRequest,
)
from workflows.contracts import CreatedChannel, MessageRef


def _as_temporal(err: PlatformError) -> ApplicationError:
    # "PlatformError" is in the retry policy's non_retryable_error_types, so a failure
    # that waiting may fix (429s after the client's own retries, 5xx) needs another type.
    if err.retryable:
        return ApplicationError(str(err), type="PlatformRetryableError")
    return ApplicationError(str(err), type="PlatformError", non_retryable=True)


class PlatformActivities:
    def __init__(self, registry: PlatformRegistry) -> None:
        self._registry = registry

    @activity.defn
    async def post_reply(self, req: PostRequest) -> MessageRef:
        try:
            platform = self._registry.get(req.key.platform)
            return await platform.post(
                req.key, req.reply, idempotency_key=req.idempotency_key, context=req.reply_context
            )
        except PlatformError as err:
            raise _as_temporal(err) from err

    @activity.defn
    async def update_message(self, req: UpdateRequest) -> None:
        try:
            await self._registry.get(req.ref.key.platform).update(req.ref, req.reply)
        except PlatformError as err:
            raise _as_temporal(err) from err

    @activity.defn
    async def create_channel(self, req: CreateChannelRequest) -> CreatedChannel:
        try:
            created = await self._registry.get(req.like.platform).create_channel(
                req.name, topic=req.topic, members=req.members, like=req.like
            )
        except PlatformError as err:
            raise _as_temporal(err) from err
        # A platform that answers a bare key: the requested name is the best we know.
        return created if isinstance(created, CreatedChannel) else CreatedChannel(**created.model_dump(), name=req.name)

    @activity.defn
    async def set_topic(self, req: TopicRequest) -> None:
        try:
            await self._registry.get(req.key.platform).set_topic(req.key, req.topic)
        except PlatformError as err:
            raise _as_temporal(err) from err

    @activity.defn
    async def resolve_members(self, req: MembersRequest) -> list[str]:
        try:
            return await self._registry.get(req.like.platform).resolve_members(req.ids, like=req.like)
        except PlatformError as err:
            raise _as_temporal(err) from err

    @activity.defn
    async def pin_message(self, req: PinRequest) -> None:
        try:
            await self._registry.get(req.ref.key.platform).pin(req.ref)
        except PlatformError as err:
            raise _as_temporal(err) from err

    @activity.defn
    async def send_private(self, req: PrivateRequest) -> None:
        try:
            await self._registry.get(req.key.platform).send_private(req.key, req.user_id, req.text)
        except PlatformError as err:
            raise _as_temporal(err) from err
