"""Inputs and outputs of activities (plain data, shared by workflows and workers)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from workflows.contracts import (
    Actor,
    ConversationKey,
    FileRef,
    MessageRef,
    Reply,
    SessionSummary,
    TriggeredWorkflow,
)


class ReplyRequest(BaseModel):
    text: str
    actor: Actor
    summary: SessionSummary
    started: TriggeredWorkflow | None = None


class PostRequest(BaseModel):
    key: ConversationKey
    reply: Reply
    idempotency_key: str
    reply_context: dict[str, Any] | None = None
    #: When the platform first refused this reply (a streamed turn's): a late note counts from then.
    late_since: datetime | None = None


class UpdateRequest(BaseModel):
    ref: MessageRef
    reply: Reply
    #: As PostRequest.late_since: the update finishes a reply the platform refused since then.
    late_since: datetime | None = None


class CreateChannelRequest(BaseModel):
    like: ConversationKey
    name: str
    topic: str = ""
    members: list[str] = Field(default_factory=list)


class MembersRequest(BaseModel):
    like: ConversationKey
    ids: list[str]


class TopicRequest(BaseModel):
    key: ConversationKey
    topic: str


class PinRequest(BaseModel):
    ref: MessageRef


class PrivateRequest(BaseModel):
    key: ConversationKey
    user_id: str
    text: str


class MatchRequest(BaseModel):
    text: str
    files: list[FileRef] = Field(default_factory=list)
