"""Teams activities -> ChatMessage / ActionEvent: conversation key, clean text, the actor."""

from __future__ import annotations

import logging
import time
from typing import Any

from botbuilder.core import TurnContext
from botbuilder.core.teams import TeamsInfo
from botbuilder.schema import Activity

from adapters.teams.cards import DATA_MARKER
from adapters.teams.references import key_of, reference_of
from workflows.contracts import ActionEvent, Actor, ChatMessage, FileRef, MessageRef

log = logging.getLogger(__name__)

GUEST_ROLES = {"guest", "anonymous"}
MEMBER_CACHE_SECONDS = 600.0
MEMBER_CACHE_SIZE = 5_000


def strip_bot_mention(activity: Activity) -> str:
    """The message text without the bot's own @mention (``<at>threadwork</at>``)."""
    text = activity.text or ""
    bot_id = activity.recipient.id if activity.recipient else None
    for mention in TurnContext.get_mentions(activity):
        props = mention.additional_properties or {}
        if (props.get("mentioned") or {}).get("id") == bot_id and props.get("text"):
            text = text.replace(props["text"], "")
    return text.strip()


class MemberDirectory:
    """Display name and guest status of members (TeamsInfo.get_member), cached per tenant and user.

    When Teams cannot tell us who someone is, a msteams user counts as a guest (fail
    closed: the guest limit applies); other channels (the Emulator) have no guests.
    Failures are not cached, so the next message asks again.
    """

    def __init__(self, ttl: float = MEMBER_CACHE_SECONDS, size: int = MEMBER_CACHE_SIZE) -> None:
        self._ttl = ttl
        self._size = size
        self._cache: dict[tuple[str, str], tuple[float, Actor]] = {}

    async def actor(self, turn_context: TurnContext, tenant: str) -> Actor:
        sender = turn_context.activity.from_property
        cache_key = (tenant, sender.id)
        hit = self._cache.get(cache_key)
        if hit is not None and hit[0] > time.monotonic():
            return hit[1]
        try:
            member = await TeamsInfo.get_member(turn_context, sender.id)
        except Exception as err:  # the connector refused or is unreachable
            log.warning("could not look up Teams member %s: %s", sender.id, err)
            guest = turn_context.activity.channel_id == "msteams"
            return Actor(id=sender.id, name=sender.name or "", is_guest=guest)
        role = (member.user_role or "").lower()
        actor = Actor(id=sender.id, name=member.name or sender.name or "", is_guest=role in GUEST_ROLES)
        if len(self._cache) >= self._size:
            self._cache.pop(next(iter(self._cache)))
        self._cache[cache_key] = (time.monotonic() + self._ttl, actor)
        return actor


FILE_DOWNLOAD_INFO = "application/vnd.microsoft.teams.file.download.info"


def files_of(activity: Activity) -> list[FileRef]:
    """Files a user shared with the bot: Teams sends them with a pre-authorized download URL.

    (Inline images and the HTML copy of the message are other attachment types; they are
    not documents to process.)
    """
    files = []
    for attachment in activity.attachments or []:
        content = attachment.content if isinstance(attachment.content, dict) else {}
        if attachment.content_type != FILE_DOWNLOAD_INFO or not content.get("downloadUrl"):
            continue
        name = attachment.name or content.get("uniqueId") or "attachment"
        file_type = str(content.get("fileType") or "").lower()
        files.append(
            FileRef(name=name, url=content["downloadUrl"], mimetype=MIMETYPES.get(file_type, ""), source="teams")
        )
    return files


MIMETYPES = {
    "pdf": "application/pdf",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "txt": "text/plain",
    "md": "text/markdown",
    "html": "text/html",
}


def chat_message(activity: Activity, actor: Actor) -> ChatMessage:
    return ChatMessage(
        key=key_of(activity),
        actor=actor,
        files=files_of(activity),
        text=strip_bot_mention(activity),
        message_id=activity.id,
        ts=activity.timestamp,
        reply_context=reference_of(activity),
    )


def card_data(value: Any) -> dict[str, Any] | None:
    """Our button data from an Action.Submit value or an Action.Execute's data, else None."""
    if not isinstance(value, dict) or not value.get(DATA_MARKER):
        return None
    if not isinstance(value.get("workflow_id"), str) or not isinstance(value.get("action_id"), str):
        return None
    return value


def action_event(activity: Activity, actor: Actor, data: dict[str, Any]) -> ActionEvent:
    key = key_of(activity)
    card_id = activity.reply_to_id
    ref = MessageRef(key=key, message_id=card_id, extra={"reference": reference_of(activity)}) if card_id else None
    return ActionEvent(
        key=key,
        actor=actor,
        action_id=data["action_id"],
        value=str(data.get("value") or ""),
        message_ref=ref,
        event_id=f"teams-action-{activity.id}" if activity.id else "",
    )
