"""Bot Framework activities as Teams sends them (only the fields the bot reads)."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from typing import Any

TENANT = "tenant-1"
BOT_ID = "28:threadwork-bot"
_ids = itertools.count(1)


def next_id() -> str:
    return f"act-{next(_ids)}"


def activity(
    service_url: str,
    conversation_id: str,
    *,
    type: str = "message",
    text: str | None = None,
    user: str = "29:alice",
    user_name: str = "Alice",
    tenant: str = TENANT,
    conversation_type: str = "personal",
    activity_id: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": type,
        "id": activity_id or next_id(),
        "timestamp": datetime.now(UTC).isoformat(),
        "serviceUrl": service_url,
        "channelId": "msteams",
        "from": {"id": user, "name": user_name, "aadObjectId": f"aad-{user}"},
        "conversation": {"id": conversation_id, "conversationType": conversation_type, "tenantId": tenant},
        "recipient": {"id": BOT_ID, "name": "threadwork"},
        "channelData": {"tenant": {"id": tenant}},
        **extra,
    }
    if text is not None:
        body["text"] = text
    return body


def mention(text_with_at: str) -> dict[str, Any]:
    """The entity Teams attaches when a message @mentions the bot."""
    return {"type": "mention", "text": text_with_at, "mentioned": {"id": BOT_ID, "name": "threadwork"}}


def execute(service_url: str, conversation_id: str, data: dict[str, Any], *, card_id: str, **kw: Any) -> dict[str, Any]:
    """An Action.Execute click: an adaptiveCard/action invoke."""
    value = {"action": {"type": "Action.Execute", "verb": data.get("action_id"), "data": data}}
    return activity(
        service_url, conversation_id, type="invoke", name="adaptiveCard/action", value=value, replyToId=card_id, **kw
    )


def submit(service_url: str, conversation_id: str, data: dict[str, Any], *, card_id: str, **kw: Any) -> dict[str, Any]:
    """An Action.Submit click: a message whose value is the button's data."""
    return activity(service_url, conversation_id, value=data, replyToId=card_id, **kw)
