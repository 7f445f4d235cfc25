"""Slack payloads -> threadwork contracts: which session a message belongs to, and who sent it.

Pure functions (no I/O) so the routing rules are easy to read and test:
- a top-level channel message opens a session only when it mentions the bot; the
  session is the thread rooted at that message (``slack:{team}:{channel}:{ts}``);
- a reply in a thread goes to that thread's session (the caller checks that the
  session exists when the reply does not mention the bot);
- in a DM everything is for the bot: a DM thread is a session, top-level DMs share
  ``slack:{team}:{D...}:dm``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from workflows.contracts import ActionEvent, Actor, ChatMessage, ConversationKey, FileRef, MessageRef

#: Message subtypes that are a person saying something new. Edits (message_changed),
#: deletions (message_deleted), joins, bot_message... never produce a reply.
USER_SUBTYPES = {None, "file_share", "thread_broadcast"}
DM_THREAD = "dm"


@dataclass
class Route:
    """Where an inbound message goes; ``key`` is None when it is ignored (``reason`` says why)."""

    key: ConversationKey | None
    reason: str = ""
    needs_existing_session: bool = False


def is_dm(event: dict[str, Any]) -> bool:
    return event.get("channel_type") == "im" or str(event.get("channel", "")).startswith("D")


def mentions(text: str, bot_user_id: str | None) -> bool:
    return bool(bot_user_id) and f"<@{bot_user_id}" in (text or "")


def strip_mention(text: str, bot_user_id: str | None) -> str:
    """'<@UBOT> help' -> 'help' (so built-in commands work after a mention)."""
    if not bot_user_id:
        return text.strip()
    return re.sub(rf"<@{re.escape(bot_user_id)}(\|[^>]*)?>", "", text).strip()


def from_self_or_bot(event: dict[str, Any], bot_user_id: str | None, bot_id: str | None) -> bool:
    return bool(
        event.get("bot_id")
        or event.get("bot_profile")
        or event.get("subtype") == "bot_message"
        or (bot_user_id and event.get("user") == bot_user_id)
        or (bot_id and event.get("bot_id") == bot_id)
    )


def route(event: dict[str, Any], team_id: str, bot_user_id: str | None, bot_id: str | None = None) -> Route:
    """Which session (if any) an ``app_mention`` or ``message`` event belongs to."""
    if from_self_or_bot(event, bot_user_id, bot_id):
        return Route(None, "from a bot")
    if event.get("subtype") not in USER_SUBTYPES:
        return Route(None, f"subtype {event.get('subtype')}")
    if not event.get("user") or not event.get("channel") or not event.get("ts"):
        return Route(None, "no user, channel or ts")
    channel, ts = event["channel"], event["ts"]
    thread_ts = event.get("thread_ts")
    in_thread = bool(thread_ts) and thread_ts != ts
    if is_dm(event):
        return Route(
            ConversationKey(
                platform="slack", workspace=team_id, channel=channel, thread=thread_ts if in_thread else DM_THREAD
            )
        )
    mentioned = event.get("type") == "app_mention" or mentions(event.get("text", ""), bot_user_id)
    if in_thread:
        key = ConversationKey(platform="slack", workspace=team_id, channel=channel, thread=thread_ts)
        return Route(key, needs_existing_session=not mentioned)
    if mentioned:
        return Route(ConversationKey(platform="slack", workspace=team_id, channel=channel, thread=ts))
    return Route(None, "top-level message without a mention")


def message_id(channel: str, ts: str) -> str:
    """The update id: the same for the app_mention/message twin and for Slack's retries."""
    return f"{channel}:{ts}"


def slack_time(ts: str | None) -> datetime | None:
    try:
        return datetime.fromtimestamp(float(ts), tz=UTC) if ts else None
    except ValueError:
        return None


def files_of(event: dict[str, Any]) -> list[FileRef]:
    return [
        FileRef(
            name=f.get("name") or f.get("title") or f.get("id", "file"),
            url=f.get("url_private_download") or f.get("url_private") or "",
            mimetype=f.get("mimetype", ""),
            size=f.get("size"),
            source="slack",
        )
        for f in event.get("files") or []
        if isinstance(f, dict)
    ]


def to_chat_message(event: dict[str, Any], key: ConversationKey, actor: Actor, bot_user_id: str | None) -> ChatMessage:
    return ChatMessage(
        key=key,
        actor=actor,
        text=strip_mention(event.get("text") or "", bot_user_id),
        message_id=message_id(event["channel"], event["ts"]),
        files=files_of(event),
        ts=slack_time(event.get("ts")),
    )


def action_key(body: dict[str, Any]) -> ConversationKey:
    """The conversation of the message whose button was clicked."""
    team = (body.get("team") or {}).get("id") or body.get("user", {}).get("team_id", "")
    channel = (body.get("channel") or {}).get("id") or (body.get("container") or {}).get("channel_id", "")
    message = body.get("message") or {}
    thread = message.get("thread_ts") or (body.get("container") or {}).get("thread_ts")
    if not thread and channel.startswith("D"):
        thread = DM_THREAD
    return ConversationKey(platform="slack", workspace=team, channel=channel, thread=thread)


def to_action_event(
    body: dict[str, Any], action: dict[str, Any], actor: Actor, action_id: str, value: str
) -> ActionEvent:
    key = action_key(body)
    message_ts = (body.get("message") or {}).get("ts") or (body.get("container") or {}).get("message_ts", "")
    ref = (
        MessageRef(key=key, message_id=message_ts, extra={"channel": key.channel, "ts": message_ts})
        if message_ts
        else None
    )
    return ActionEvent(
        key=key,
        actor=actor,
        action_id=action_id,
        value=value,
        message_ref=ref,
        event_id=f"{key.channel}:{message_ts}:{action.get('action_ts', '')}:{actor.id}",
    )
