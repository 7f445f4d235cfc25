"""Slack events that feed a running incident rather than a session.

A :pushpin: reaction on a message in an incident channel adds that message to the
incident's timeline; ``/incident note <text>`` (and the other ``incident`` commands) typed
as a slash command in the incident channel reach the incident like its buttons do.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from slack_sdk.errors import SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.blocks import escape
from workflows.contracts import ActionEvent, ConversationKey, MessageRef
from workflows.incident.incident_card import NOTE
from workflows.incident.incident_routing import parse_incident_command

if TYPE_CHECKING:
    from adapters.slack.app import SlackBot

log = logging.getLogger(__name__)
PIN_REACTIONS = {"pushpin", "round_pushpin"}


async def message_text(client: AsyncWebClient, channel: str, ts: str) -> str | None:
    """The text of one message (top level or in a thread), or None if Slack does not show it to us."""
    try:
        resp = await client.conversations_replies(channel=channel, ts=ts, limit=1, inclusive=True)
    except (SlackClientError, OSError) as err:
        log.warning("could not read message %s in %s: %s", ts, channel, err)
        return None
    messages: list[dict[str, Any]] = resp.get("messages", [])
    for message in messages:
        if message.get("ts") == ts:
            return message.get("text", "")
    return None


async def on_reaction_added(bot: SlackBot, event: dict[str, Any], body: dict[str, Any], client: AsyncWebClient) -> None:
    item = event.get("item") or {}
    if event.get("reaction") not in PIN_REACTIONS or item.get("type") != "message":
        return
    team = body.get("team_id", "")
    channel, ts, user = item.get("channel", ""), item.get("ts", ""), event.get("user", "")
    text = await message_text(client, channel, ts)
    if not text:
        return
    actor = await bot.actors.actor(client, team, user)
    key = ConversationKey(platform="slack", workspace=team, channel=channel)
    note = ActionEvent(
        key=key,
        actor=actor,
        action_id=NOTE,
        value=text,
        message_ref=MessageRef(key=key, message_id=ts),
        event_id=f"pin:{channel}:{ts}:{user}",
    )
    result = await bot.sessions.incident_action(key, note)
    if result is None:
        log.debug("pushpin in %s: no incident runs there", channel)


async def on_incident_subcommand(bot: SlackBot, command: dict[str, Any], ack: Any, client: AsyncWebClient) -> bool:
    """``/incident note|update|status|severity|approve|resolve|take command ...`` in an incident channel.

    Returns False when the text is not such a command (then it is a title to declare).
    """
    parsed = parse_incident_command(f"incident {command.get('text') or ''}")
    if parsed is None:
        return False
    await ack()
    team, channel, user = command.get("team_id", ""), command.get("channel_id", ""), command.get("user_id", "")
    key = ConversationKey(platform="slack", workspace=team, channel=channel)
    actor = await bot.actors.actor(client, team, user)
    action_id, value = parsed
    event = ActionEvent(
        key=key,
        actor=actor,
        action_id=action_id,
        value=value,
        event_id=f"cmd:{channel}:{command.get('trigger_id', '')}",
    )
    result = await bot.sessions.incident_action(key, event)
    if result is None:
        text = "No incident is running in this channel; run this in the incident's channel."
    else:
        # The outcome, with a link to the message holding any buttons (e.g. an approval's).
        text = (
            result.ephemeral
            or (escape(result.notice) if result.notice else None)
            or ("Added to the incident timeline." if action_id == NOTE else "Done.")
        )
    await bot._whisper(client, key, user, text, command.get("response_url"))
    return True
