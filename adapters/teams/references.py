"""Conversation references as plain data, and the conversation key of an activity.

A ConversationReference is what Bot Framework needs to post into a conversation later
(serviceUrl, conversation, bot). It travels through Temporal as a dict (ChatMessage
.reply_context -> SessionState.reply_context -> ChildWorkflowInput.origin_context), so
proactive posts work from any worker, also after restarts.
"""

from __future__ import annotations

from copy import deepcopy
from typing import Any

from botbuilder.core import TurnContext
from botbuilder.schema import Activity, ConversationAccount, ConversationReference

from workflows.contracts import ConversationKey

#: Stands in for the tenant of conversations that have none (Bot Framework Emulator).
NO_TENANT = "no-tenant"


def tenant_of(activity: Activity) -> str:
    """The Azure AD tenant: conversation.tenantId, else channelData.tenant.id."""
    tenant = getattr(activity.conversation, "tenant_id", None) if activity.conversation else None
    if not tenant and isinstance(activity.channel_data, dict):
        tenant = (activity.channel_data.get("tenant") or {}).get("id")
    return tenant or NO_TENANT


def key_of(activity: Activity) -> ConversationKey:
    """teams:{tenant}:{conversation.id}; a channel thread's id carries ';messageid=...'."""
    return ConversationKey(platform="teams", workspace=tenant_of(activity), channel=activity.conversation.id)


def reference_of(activity: Activity) -> dict[str, Any]:
    return TurnContext.get_conversation_reference(activity).serialize()


def load_reference(data: dict[str, Any]) -> ConversationReference:
    reference = ConversationReference().deserialize(deepcopy(data))
    if not reference.service_url or not reference.conversation or not reference.conversation.id:
        raise ValueError("conversation reference lacks serviceUrl or conversation.id")
    return reference


def is_personal(reference: ConversationReference) -> bool:
    """A 1:1 chat with the bot (where Teams streams replies); group chats and channels are not."""
    return (getattr(reference.conversation, "conversation_type", None) or "") == "personal"


def reference_for(
    key: ConversationKey, context: dict[str, Any] | None, service_url: str | None
) -> ConversationReference:
    """The reference to post into ``key``.

    The session's stored reference when it is for this conversation; otherwise (a new
    incident thread, a conversation we only know by id) one built from the key, reusing
    the stored reference's serviceUrl and bot, or ``service_url``.
    """
    base = load_reference(context) if context else None
    if base is not None and base.conversation.id == key.channel:
        return base
    url = base.service_url if base is not None else service_url
    if not url:
        raise ValueError(f"no serviceUrl known for Teams conversation {key.channel!r}")
    tenant = None if key.workspace == NO_TENANT else key.workspace
    return ConversationReference(
        channel_id=base.channel_id if base is not None else "msteams",
        service_url=url,
        bot=base.bot if base is not None else None,
        conversation=ConversationAccount(id=key.channel, tenant_id=tenant, is_group=True),
    )
