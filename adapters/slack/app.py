"""The bolt AsyncApp and its event and button listeners.

Bolt verifies signatures and timestamps (401 otherwise), answers url_verification and
acknowledges events before any listener runs (process_before_response=False); the
listeners only map the payload and hand it to the session, whose workflow does the
durable work.
"""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING, Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.async_context import AsyncBoltContext
from slack_sdk.errors import SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.agent_stop import on_agent_session_stopped
from adapters.slack.blocks import decode_button_value
from adapters.slack.commands import register_commands
from adapters.slack.incident_events import on_reaction_added
from adapters.slack.mapping import Route, is_dm, mentions, route, to_action_event, to_chat_message
from adapters.slack.platform import thread_ts_of
from adapters.slack.received_events import ReceivedEvents
from adapters.slack.thread_membership import BotIdentity, ThreadMembership
from adapters.slack.users import ActorCache
from adapters.user_notice import Notice, deliver_and_tell
from workflows.contracts import ConversationKey
from workflows.platform_port import SessionDispatcher
from workflows.registry import WorkflowListing

if TYPE_CHECKING:
    from slack_bolt.context.ack.async_ack import AsyncAck

log = logging.getLogger(__name__)


class SlackBot:
    """Listeners for one AsyncApp, built when the gateway mounts the adapter (adapters/slack/adapter.py)."""

    def __init__(
        self,
        app: AsyncApp,
        sessions: SessionDispatcher,
        actors: ActorCache | None = None,
        custom_workflows: list[WorkflowListing] | None = None,
        received: ReceivedEvents | None = None,
    ) -> None:
        self.app = app
        #: Where messages, clicks and commands go (the gateway's dispatcher).
        self.sessions = sessions
        self.actors = actors or ActorCache()
        #: Operator-registered workflows (workflows/registry.py) for /threadwork workflows | run.
        self.custom_workflows = list(custom_workflows or [])
        #: Which threads belong to a session: thread replies without a mention need one.
        self.threads = ThreadMembership()
        #: Message events kept from before the acknowledgement until ``_on_message`` ends.
        self.received = received
        if received is not None:
            app.middleware(received.middleware)
        app.event("app_mention")(self._on_message)
        app.event("message")(self._on_message)
        app.event("reaction_added")(self._on_reaction)
        app.event("agent_session_stopped")(self._on_agent_stop)
        app.event(re.compile(".+"))(self._on_ignored_event)  # anything else subscribed later: ack, no retries
        app.action(re.compile(".+"))(self._on_action)
        register_commands(app, self)

    # ---- messages ---------------------------------------------------------------

    async def _on_reaction(self, event: dict[str, Any], body: dict[str, Any], client: AsyncWebClient) -> None:
        """A :pushpin: on a message in an incident channel adds it to the incident's timeline."""
        await on_reaction_added(self, event, body, client)

    async def _on_agent_stop(
        self, event: dict[str, Any], body: dict[str, Any], context: AsyncBoltContext, client: AsyncWebClient
    ) -> None:
        """Slack's native Stop button (agent sessions): cancel the session's running turn in its workflow."""
        await on_agent_session_stopped(self, event, body, context, client)

    async def _on_ignored_event(self) -> None:
        """Subscribed but not used (yet): acknowledged so Slack does not retry it."""

    async def _on_message(
        self, event: dict[str, Any], body: dict[str, Any], context: AsyncBoltContext, client: AsyncWebClient
    ) -> None:
        try:
            await self._handle_message(event, body, context, client)
        finally:
            if self.received is not None:
                await self.received.done(body)

    async def _handle_message(
        self, event: dict[str, Any], body: dict[str, Any], context: AsyncBoltContext, client: AsyncWebClient
    ) -> None:
        team_id = body.get("team_id") or context.team_id or ""
        where = route(event, team_id, context.bot_user_id, context.bot_id)
        if where.key is None:
            log.debug("ignored Slack %s event: %s", event.get("type"), where.reason)
            return
        if not await self._belongs_to_session(where, event, context, client):
            return
        actor = await self.actors.actor(client, team_id, event["user"])
        if actor.is_bot:
            return
        msg = to_chat_message(event, where.key, actor, context.bot_user_id)
        if not msg.text and not msg.files and mentions(event.get("text", ""), context.bot_user_id):
            msg.text = "help"  # a bare mention asks what the bot can do

        async def tell(notice: Notice) -> None:
            if notice.private:
                await self._whisper(client, msg.key, actor.id, notice.text)
            else:
                await self._say(client, msg.key, notice.text)

        await deliver_and_tell(self.sessions, msg, tell)

    async def _belongs_to_session(
        self, where: Route, event: dict[str, Any], context: AsyncBoltContext, client: AsyncWebClient
    ) -> bool:
        """A mention marks its thread at once; a reply without one asks what Slack knows (thread_membership.py)."""
        key = where.key
        if key is None:
            return False
        thread = (key.workspace, key.channel, key.thread or "")
        if not where.needs_existing_session:
            if not is_dm(event):
                self.threads.mark_known(thread, event["ts"])
            return True
        bot = BotIdentity(context.bot_user_id, context.bot_id, key.session_id())
        return await self.threads.belongs(
            thread, event["ts"], client, bot, lambda: self.sessions.has_session(key.session_id())
        )

    async def _say(self, client: AsyncWebClient, key: ConversationKey, text: str) -> None:
        try:
            await client.chat_postMessage(channel=key.channel, thread_ts=thread_ts_of(key), text=text)
        except (SlackClientError, OSError) as err:
            log.error("could not tell %s %r: %s", key.session_id(), text, err)

    async def _whisper(
        self, client: AsyncWebClient, key: ConversationKey, user: str, text: str, response_url: str | None = None
    ) -> None:
        """Say something only ``user`` sees: chat.postEphemeral, else the interaction's response_url."""
        try:
            await client.chat_postEphemeral(channel=key.channel, user=user, thread_ts=thread_ts_of(key), text=text)
            return
        except (SlackClientError, OSError) as err:
            if not response_url:
                log.error("could not tell %s privately in %s: %s", user, key.channel, err)
                return
        from slack_sdk.webhook.async_client import AsyncWebhookClient

        try:
            await AsyncWebhookClient(response_url).send(text=text, response_type="ephemeral", replace_original=False)
        except (SlackClientError, OSError) as err:
            log.error("could not tell %s privately through response_url: %s", user, err)

    # ---- buttons ----------------------------------------------------------------

    async def _on_action(
        self,
        ack: AsyncAck,
        body: dict[str, Any],
        action: dict[str, Any],
        context: AsyncBoltContext,
        client: AsyncWebClient,
    ) -> None:
        await ack()
        team_id = (body.get("team") or {}).get("id") or context.team_id or ""
        user_id = (body.get("user") or {}).get("id", "")
        actor = await self.actors.actor(client, team_id, user_id)
        try:
            workflow_id, action_id, value = decode_button_value(action.get("value", ""))
        except ValueError as err:
            event = to_action_event(body, action, actor, action.get("action_id", ""), "")
            await self._whisper(
                client, event.key, user_id, f"I can't handle that button: {err}.", body.get("response_url")
            )
            return
        event = to_action_event(body, action, actor, action_id, value)
        result = await self.sessions.act(workflow_id, event)
        if result.ephemeral:
            await self._whisper(client, event.key, user_id, result.ephemeral, body.get("response_url"))
