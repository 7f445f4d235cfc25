"""Everything the fast tests build or name from the core, in one place.

Workflow inputs (SessionInput, ChildWorkflowInput), messages, clicks and the incident's action
ids are made here and nowhere else in tests/workflows/, so a change of those shapes (the
platform port, ChildSpec, the incident feature folder) is adapted in this file only.
"""

from __future__ import annotations

from itertools import count
from typing import Any

from workflows.approval import APPROVE, REJECT, ApprovalRequest
from workflows.chat_session import ChatSessionWorkflow
from workflows.contracts import (
    ActionEvent,
    Actor,
    ChatMessage,
    ChildWorkflowInput,
    ConversationKey,
    Platform,
    SessionConfig,
    SessionInput,
)
from workflows.incident import IncidentWorkflow
from workflows.incident import incident_card as incident_ui

__all__ = [
    "APPROVE",
    "REJECT",
    "ChatSessionWorkflow",
    "IncidentAction",
    "IncidentWorkflow",
    "actor",
    "approval_request",
    "click",
    "incident_input",
    "message",
    "session_id",
    "session_input",
    "thread_key",
]

#: The platform the recording adapter stands in for: threads, channels, normal (not local) activities.
PLATFORM: Platform = "slack"
_ids = count(1)


class IncidentAction:
    """The incident's action ids (buttons and typed commands send the same events)."""

    TAKE_COMMAND = incident_ui.TAKE_COMMAND
    POST_UPDATE = incident_ui.POST_UPDATE
    RESOLVE = incident_ui.RESOLVE
    REQUEST_APPROVAL = incident_ui.REQUEST_APPROVAL


def thread_key(thread: str | None = None, channel: str = "C-general") -> ConversationKey:
    """A fresh thread (each test its own session id) unless ``thread`` names one."""
    return ConversationKey(platform=PLATFORM, workspace="T-test", channel=channel, thread=thread or f"t{next(_ids)}")


def actor(user_id: str, *, guest: bool = False) -> Actor:
    return Actor(id=user_id, name=user_id.capitalize(), is_guest=guest)


def session_input(key: ConversationKey, **config: Any) -> SessionInput:
    """A new session on ``key``; ``config`` sets SessionConfig fields (idle_timeout_seconds=...)."""
    return SessionInput(key=key, config=SessionConfig(**config))


def session_id(key: ConversationKey) -> str:
    return key.session_id()


def message(key: ConversationKey, text: str, *, by: Actor | None = None, message_id: str | None = None) -> ChatMessage:
    return ChatMessage(key=key, actor=by or actor("alice"), text=text, message_id=message_id or f"msg-{next(_ids)}")


def incident_input(
    origin: ConversationKey, title: str, *, by: Actor | None = None, **options: Any
) -> ChildWorkflowInput:
    """An incident declared in ``origin`` by ``by``; ``options`` are IncidentOptions (update_interval_seconds=...).

    No session: a direct start has nobody to report its status to.
    """
    return ChildWorkflowInput(
        origin=origin,
        session_id="",
        title=title,
        requested_by=by or actor("alice"),
        origin_message_id="m0",
        args=options,
    )


def click(key: ConversationKey, by: Actor, action_id: str, value: str = "") -> ActionEvent:
    """A button click or typed command, as an adapter sends it to a workflow's handle_action update."""
    return ActionEvent(key=key, actor=by, action_id=action_id, value=value, event_id=f"ev-{next(_ids)}")


def approval_request(conversation: ConversationKey, **fields: Any) -> ApprovalRequest:
    return ApprovalRequest(
        approval_id="rollback-1",
        question="Approve rollback of checkout to v1.4.2?",
        conversation=conversation,
        **fields,
    )
