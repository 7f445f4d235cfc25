"""``agent_session_stopped``: the user pressed Slack's native Stop button on an agent session.

Slack stops the app's streams in that thread itself (``streaming_message_ts``); the work is
ours to stop. The thread is the session, so the event becomes ``stop_turn`` on that session's
workflow, which cancels the running turn activity; the turn finishes its message with the
text so far and the session's history records who stopped it. The event id is the update id,
so Slack's retries of the event stop nothing twice.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from slack_bolt.context.async_context import AsyncBoltContext
from slack_sdk.errors import SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.mapping import DM_THREAD
from workflows.contracts import ConversationKey

if TYPE_CHECKING:
    from adapters.slack.app import SlackBot

log = logging.getLogger(__name__)


def stopped_session(event: dict[str, Any], team_id: str) -> ConversationKey | None:
    """The session of the stopped agent session: its thread (a DM without a thread: the DM's session)."""
    channel = event.get("channel")
    if not channel or not team_id:
        return None
    thread = event.get("thread_ts") or (DM_THREAD if str(channel).startswith("D") else None)
    if thread is None:
        return None
    return ConversationKey(platform="slack", workspace=team_id, channel=channel, thread=thread)


async def on_agent_session_stopped(
    bot: SlackBot, event: dict[str, Any], body: dict[str, Any], context: AsyncBoltContext, client: AsyncWebClient
) -> None:
    team_id = body.get("team_id") or context.team_id or ""
    key = stopped_session(event, team_id)
    if key is None or not event.get("user"):
        log.warning("agent_session_stopped without a channel, thread or user: ignored")
        return
    actor = await bot.actors.actor(client, team_id, event["user"])
    result = await bot.sessions.stop_turn(key.session_id(), actor, request_id=str(body.get("event_id") or ""))
    if result.stopped:
        return  # the stopped turn finishes its message and sets the session active (streaming.py)
    log.info("Stop in %s stopped nothing: %s", key.session_id(), result.detail)
    if event.get("thread_ts"):
        # Slack leaves the session "processing" until the app moves it on.
        try:
            await client.agents_sessions_setStatus(
                channel_id=key.channel, thread_ts=event["thread_ts"], status="active"
            )
        except (SlackClientError, OSError) as err:
            log.warning("Slack agents.sessions.setStatus active in %s failed: %s", key.channel, err)
