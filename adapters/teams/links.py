"""Conversation and user links in reply text, as Teams shows them (Markdown links to deep links).

Teams has no inline channel syntax like Slack's ``<#C…>``; a deep link opens the channel,
the thread (``…;messageid=…`` conversations, where incident threads live) or the chat.
Users become their name in bold: a real @mention needs an entity with the user's AAD id,
which a neutral reply does not carry.
"""

from __future__ import annotations

from urllib.parse import quote, urlencode

from adapters.teams.references import NO_TENANT
from workflows.contracts import ConversationKey, plain_links, render_links


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


def _user(user_id: str, label: str) -> str:
    return f"**{label}**"


def markdown(text: str) -> str:
    """Text for a Teams message or card TextBlock (both render Markdown links)."""
    return render_links(text, _conversation, _user)


def plain(text: str) -> str:
    """Text for notifications and fallbacks, where links cannot be drawn."""
    return plain_links(text)
