"""Conversation and user links in reply text, as Teams shows them (Markdown links to deep links).

Teams has no inline channel syntax like Slack's ``<#C…>``; a deep link opens the channel,
the thread (``…;messageid=…`` conversations, where incident threads live) or the chat.
A Teams user becomes a real @mention: ``<at>Name</at>`` in the text plus a ``mention``
entity naming the user's Teams id (on the activity, or in the card's ``msteams.entities``).
Anyone else (a Slack or web chat user named in a Teams message) stays a name in bold.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote, urlencode

from adapters.teams.references import NO_TENANT
from workflows.contracts import LINK_TOKEN, ConversationKey, plain_links, render_links

#: Ids Teams can mention: user (29:), bot (28:), org (8:orgid:) ids and AAD object ids.
TEAMS_USER = re.compile(
    r"^(29:|28:|8:orgid:)\S+$|^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
)


def deep_link(key: ConversationKey, label: str) -> str | None:
    """https://teams.microsoft.com/l/… for a Teams conversation, None for another platform's."""
    if key.platform != "teams" or not key.channel:
        return None
    query = {"tenantId": key.workspace} if key.workspace and key.workspace != NO_TENANT else {}
    conversation, _, message_id = key.channel.partition(";messageid=")
    if message_id:
        query["parentMessageId"] = message_id
        return f"https://teams.microsoft.com/l/message/{quote(conversation, safe='')}/{message_id}?{urlencode(query)}"
    if conversation.endswith(("@thread.tacv2", "@thread.skype")) and not conversation.startswith("19:meeting"):
        return f"https://teams.microsoft.com/l/channel/{quote(conversation, safe='')}/{quote(label, safe='')}?{urlencode(query)}"
    suffix = f"?{urlencode(query)}" if query else ""
    return f"https://teams.microsoft.com/l/chat/{quote(conversation, safe='')}/conversations{suffix}"


def _conversation(key: ConversationKey, label: str) -> str:
    url = deep_link(key, label)
    return f"[#{label}]({url})" if url else f"#{label}"


def _mention_text(label: str) -> str:
    return f"<at>{label.replace('<', '').replace('>', '')}</at>"


def _user(user_id: str, label: str) -> str:
    return _mention_text(label) if TEAMS_USER.match(user_id) else f"**{label}**"


def mention_entities(*texts: str) -> list[dict[str, Any]]:
    """The ``mention`` entities that make each ``<at>…</at>`` in these texts a real @mention (once per user and name)."""
    entities: list[dict[str, Any]] = []
    for text in texts:
        for m in LINK_TOKEN.finditer(text):
            if m.group(1) != "user" or not TEAMS_USER.match(m.group(2)):
                continue
            entity = {
                "type": "mention",
                "text": _mention_text(m.group(3)),
                "mentioned": {"id": m.group(2), "name": m.group(3)},
            }
            if entity not in entities:
                entities.append(entity)
    return entities


def markdown(text: str) -> str:
    """Text for a Teams message or card TextBlock (both render Markdown links)."""
    return render_links(text, _conversation, _user)


def plain(text: str) -> str:
    """Text for notifications and fallbacks, where links cannot be drawn."""
    return plain_links(text)
