"""Teams as a ChatPlatform: proactive posts, in-place updates and incident threads.

Everything goes through CloudAdapter.continue_conversation / create_conversation with a
conversation reference, never through an inbound turn, so any worker process can post
into any conversation it has a reference (or at least a serviceUrl) for.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from botbuilder.core import TurnContext
from botbuilder.integration.aiohttp import CloudAdapter
from botbuilder.schema import (
    Activity,
    ChannelAccount,
    ConversationParameters,
    ConversationReference,
)
from msrest.exceptions import ClientRequestError, HttpOperationError

from adapters.base import PlatformError, ReplyStream, in_local_activity, retry_after
from adapters.posted_log import PostedLog
from adapters.stream_fallback import PostThenUpdateStream
from adapters.teams.cards import render_activity
from adapters.teams.reference_memo import ReferenceMemo
from adapters.teams.references import NO_TENANT, is_personal
from adapters.teams.streaming import TeamsStream, stream_record_key
from workflows.contracts import Actor, ConversationKey, CreatedChannel, MessageRef, Reply
from workflows.stream_contracts import StopResult

log = logging.getLogger(__name__)


def _platform_error(what: str, err: Exception) -> PlatformError:
    status = getattr(getattr(err, "response", None), "status_code", None)
    retryable = isinstance(err, ClientRequestError) or status is None or status in (408, 429) or status >= 500
    headers = getattr(getattr(err, "response", None), "headers", None)
    return PlatformError(
        f"Teams refused to {what}: {status or ''} {err}".strip(), retryable=retryable, retry_after=retry_after(headers)
    )


class StopTurn(Protocol):
    """SessionDispatcher.stop_turn: the user's Stop in Teams reaches the session this way."""

    async def __call__(self, session_id: str, actor: Actor, request_id: str = "") -> StopResult: ...


class TeamsPlatform:
    name = "teams"

    def __init__(
        self,
        adapter: CloudAdapter,
        *,
        posted: PostedLog,
        app_id: str | None,
        service_url: str,
        incident_channel_id: str | None = None,
    ) -> None:
        self.adapter = adapter
        self.app_id = app_id or None
        self.default_service_url = service_url
        self.incident_channel_id = incident_channel_id
        self._service_urls: dict[str, str] = {}  # tenant -> serviceUrl seen in references
        self._references = ReferenceMemo()
        #: Posts by idempotency key, so an activity retry after a lost answer does not post twice.
        self.posted = posted
        #: How a Stop pressed in Teams stops the turn (set by use_dispatcher, in the worker too).
        self.stop_turn: StopTurn | None = None
        #: Seconds between two chunks of a streamed reply, and between two updates of a growing message.
        self.stream_interval = 0.5

    # ---- helpers ----------------------------------------------------------------

    async def _in_conversation(
        self, reference: ConversationReference, work: Callable[[TurnContext], Awaitable[Any]], what: str
    ) -> Any:
        result: list[Any] = []
        failed: list[Exception] = []

        async def callback(turn_context: TurnContext) -> None:
            try:
                result.append(await work(turn_context))
            except (HttpOperationError, ClientRequestError) as err:  # kept whole: on_turn_error would rewrap it
                failed.append(err)

        try:
            await self.adapter.continue_conversation(reference, callback, bot_app_id=self.app_id)
        except (HttpOperationError, ClientRequestError) as err:
            raise _platform_error(what, err) from err
        if failed:
            # Its status and Retry-After decide the retry (a ConnectorFailed from on_turn_error said neither).
            raise _platform_error(what, failed[0]) from failed[0]
        return result[0]

    def _bot_account(self) -> ChannelAccount | None:
        """Teams knows a bot as 28:{app id}."""
        return ChannelAccount(id=f"28:{self.app_id}") if self.app_id else None

    def _service_url_for(self, tenant: str) -> str:
        return self._service_urls.get(tenant, self.default_service_url)

    def _learn(self, key: ConversationKey, reference: ConversationReference) -> None:
        self._service_urls[key.workspace] = reference.service_url

    def _reference(self, key: ConversationKey, context: dict[str, Any] | None) -> ConversationReference:
        return self._reference_and_data(key, context)[0]

    def _reference_and_data(
        self, key: ConversationKey, context: dict[str, Any] | None
    ) -> tuple[ConversationReference, dict[str, Any]]:
        """The reference to post into ``key`` and its serialized form (shared: neither may be changed)."""
        try:
            reference, data = self._references.get(key, context, self._service_url_for(key.workspace))
        except (ValueError, TypeError, AttributeError) as err:
            raise PlatformError(f"cannot address Teams conversation {key.channel!r}: {err}") from err
        self._learn(key, reference)
        return reference, data

    async def send_to(self, reference: ConversationReference, activity: Activity) -> str:
        """Send one activity into the conversation (a streamed chunk or final message): its id ("" if none).

        Connector errors are raised as they are: a stream reads their codes (adapters/teams/stream_wire.py).
        """

        result: list[str] = []
        failed: list[Exception] = []

        async def callback(turn_context: TurnContext) -> None:
            prepared = TurnContext.apply_conversation_reference(activity, reference)
            try:
                [response] = await turn_context.adapter.send_activities(turn_context, [prepared])
            except (HttpOperationError, ClientRequestError) as err:  # kept whole (on_turn_error would rewrap it)
                failed.append(err)
                return
            result.append((response.id if response else "") or "")

        await self.adapter.continue_conversation(reference, callback, bot_app_id=self.app_id)
        if failed:
            raise failed[0]
        return result[0]

    def use_dispatcher(self, stop_turn: StopTurn) -> None:
        """Where a Stop reported to this process's streams goes (TeamsAdapter.use_dispatcher)."""
        self.stop_turn = stop_turn

    async def user_stopped(self, key: ConversationKey, actor: Actor, request_id: str) -> None:
        """The user pressed Stop on a streamed reply: ask the session to stop its turn."""
        if self.stop_turn is None:
            log.warning(
                "a Stop in Teams conversation %s cannot reach its session: no dispatcher in this process", key.channel
            )
            return
        try:
            result = await self.stop_turn(key.session_id(), actor, request_id)
        except Exception:
            log.exception("stopping the turn of %s failed", key.session_id())
            return
        log.info("Stop in Teams conversation %s: %s", key.channel, result)

    # ---- ChatPlatform -------------------------------------------------------------

    async def open_stream(
        self,
        key: ConversationKey,
        idempotency_key: str,
        recipient: Actor | None,
        *,
        context: dict[str, Any] | None = None,
    ) -> ReplyStream:
        """Teams streaming in a 1:1 chat; post-then-update elsewhere and for a reply already posted.

        A key whose message exists (finished, stopped, or moved to post-then-update by an earlier
        attempt) rewrites that message; a key with a stream in progress continues that stream.
        """
        reference = self._reference(key, context)
        if not is_personal(reference) or await self.posted.get(idempotency_key) is not None:
            return PostThenUpdateStream(self, key, idempotency_key, context=context, interval=self.stream_interval)
        record = await self.posted.get(stream_record_key(idempotency_key))
        return TeamsStream(
            self,
            key,
            idempotency_key,
            reference,
            recipient=recipient,
            context=context,
            record=record,
            interval=self.stream_interval,
        )

    async def post(
        self,
        key: ConversationKey,
        reply: Reply,
        *,
        idempotency_key: str | None = None,
        context: dict[str, Any] | None = None,
    ) -> MessageRef:
        if idempotency_key:
            earlier = await self.posted.get(idempotency_key)
            if earlier is not None:
                return MessageRef.model_validate(earlier)
            # The fast path's key is never streamed: no stream record to look for (one read fewer).
            streamed = None if in_local_activity() else await self.posted.get(stream_record_key(idempotency_key))
            if (
                streamed is not None
                and streamed.get("stream_id")
                and streamed.get("text")
                and not streamed.get("ended")
            ):
                # A streamed turn whose final message was refused: the session delivers its reply under the
                # turn's key, and that closes the stream the turn started (still one message). A stream
                # that showed no text, or was stopped or refused for good, is not closed: the reply is posted.
                return await self._close_stream(key, reply, idempotency_key, context, streamed)
        reference, reference_data = self._reference_and_data(key, context)

        async def send(turn_context: TurnContext) -> str:
            activity = TurnContext.apply_conversation_reference(render_activity(reply), reference)
            [response] = await turn_context.adapter.send_activities(turn_context, [activity])
            return response.id if response else ""

        message_id = await self._in_conversation(reference, send, "post a message")
        ref = MessageRef(key=key, message_id=message_id or "", extra={"reference": reference_data})
        if idempotency_key:
            await self.posted.put(idempotency_key, ref.model_dump(mode="json"))
        return ref

    async def _close_stream(
        self,
        key: ConversationKey,
        reply: Reply,
        idempotency_key: str,
        context: dict[str, Any] | None,
        record: dict[str, Any],
    ) -> MessageRef:
        stream = TeamsStream(
            self,
            key,
            idempotency_key,
            self._reference(key, context),
            recipient=None,
            context=context,
            record=record,
            interval=self.stream_interval,
        )
        return await stream.finish(reply)

    async def update(self, ref: MessageRef, reply: Reply) -> None:
        if not ref.message_id:
            raise PlatformError("Teams did not return an id for that message, so it cannot be updated")
        reference = self._reference(ref.key, ref.extra.get("reference"))

        async def replace(turn_context: TurnContext) -> None:
            activity = render_activity(reply)
            activity.id = ref.message_id
            await turn_context.update_activity(activity)

        await self._in_conversation(reference, replace, "update a message")

    async def create_channel(
        self, name: str, *, topic: str = "", members: list[str] | None = None, like: ConversationKey
    ) -> CreatedChannel:
        """A bot cannot create Teams channels: open a new thread in TEAMS_INCIDENT_CHANNEL_ID instead."""
        if not self.incident_channel_id:
            raise PlatformError(
                "a Teams bot cannot create channels; set TEAMS_INCIDENT_CHANNEL_ID to the channel "
                "where incident threads should start"
            )
        tenant = None if like.workspace == NO_TENANT else like.workspace
        text = f"**{name}**" + (f"\n\n{topic}" if topic else "")
        params = ConversationParameters(
            is_group=True,
            bot=self._bot_account(),
            tenant_id=tenant,
            channel_data={"channel": {"id": self.incident_channel_id}, "tenant": {"id": tenant}},
            activity=Activity(type="message", text=text),
        )
        new_reference = await self._create(params, self._service_url_for(like.workspace), "open an incident thread")
        return CreatedChannel(
            platform="teams", workspace=like.workspace, channel=new_reference.conversation.id, name=name
        )

    async def set_topic(self, key: ConversationKey, topic: str) -> None:
        """A no-op: a bot cannot set a Teams channel's description, and an incident thread has no topic.

        The incident card at the top of the thread shows the current severity and status instead.
        """

    async def resolve_members(self, ids: list[str], *, like: ConversationKey) -> list[str]:
        """Responders are configured as Teams user ids; there are no groups to expand here."""
        return list(ids)

    async def pin(self, ref: MessageRef) -> None:
        """Bots cannot pin Teams messages; the card stays where it was posted."""

    async def send_private(self, key: ConversationKey, user_id: str, text: str) -> None:
        """A 1:1 chat with the user (Teams has no ephemeral messages in a channel)."""
        tenant = None if key.workspace == NO_TENANT else key.workspace
        params = ConversationParameters(
            is_group=False,
            bot=self._bot_account(),
            members=[ChannelAccount(id=user_id)],
            tenant_id=tenant,
            channel_data={"tenant": {"id": tenant}},
            activity=Activity(type="message", text=text),
        )
        await self._create(params, self._service_url_for(key.workspace), "send a private message")

    async def _create(self, params: ConversationParameters, service_url: str, what: str) -> ConversationReference:
        created: list[ConversationReference] = []

        async def callback(turn_context: TurnContext) -> None:
            created.append(TurnContext.get_conversation_reference(turn_context.activity))

        try:
            await self.adapter.create_conversation(self.app_id, callback, params, "msteams", service_url)
        except (HttpOperationError, ClientRequestError) as err:
            raise _platform_error(what, err) from err
        return created[0]
