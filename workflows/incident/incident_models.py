"""Plain data of an incident: its options, state, timeline and decisions (pydantic, travels through Temporal)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from workflows.approval import ApprovalRecord
from workflows.contracts import Actor, ConversationKey, MessageRef, Undelivered

#: Statuses in the order an incident normally moves through them.
STATUSES = ("investigating", "identified", "monitoring", "resolved")

Status = Literal["investigating", "identified", "monitoring", "resolved"]
Picker = Literal["severity", "status"]


class IncidentOptions(BaseModel):
    """Operator settings an incident needs, read from ``ChildWorkflowInput.args`` (fixed at start).

    The session fills them from THREADWORK_INCIDENT_* settings; an external starter (an
    alert) may pass its own. Unknown keys are ignored so args can carry other data too.
    """

    model_config = ConfigDict(extra="ignore")

    #: User ids (or a platform user group the adapter expands when inviting) who may act.
    responders: list[str] = Field(default_factory=list)
    update_interval_seconds: float = Field(1800, gt=0)
    approval_timeout_seconds: float = Field(900, gt=0)
    #: Named when an approval escalates; defaults to the responders.
    escalate_to: list[str] = Field(default_factory=list)
    #: Open a dedicated conversation (channel / thread); False runs it in the origin thread.
    open_channel: bool = True
    #: create_channel attempts (transient failures) before falling back to the origin thread.
    channel_attempts: int = Field(3, ge=1)
    #: Where incidents are announced (opened / resolved, with a link and the severity), by platform:
    #: a channel id of the origin's workspace. A platform without an entry is not announced.
    announce_channels: dict[str, str] = Field(default_factory=lambda: {"webchat": "incidents"})

    @field_validator("announce_channels", mode="before")
    @classmethod
    def _pairs(cls, value: object) -> object:
        """``"webchat=incidents slack=C0123"`` (the setting's form) as a mapping."""
        if isinstance(value, str):
            pairs = [p.split("=", 1) for p in value.replace(",", " ").split() if p]
            bad = [p[0] for p in pairs if len(p) != 2 or not p[0] or not p[1]]
            if bad:
                raise ValueError(f"announce channels must be platform=channel pairs, not {' '.join(bad)!r}")
            return dict(pairs)
        return value

    @field_validator("responders", "escalate_to", mode="before")
    @classmethod
    def _split(cls, value: object) -> object:
        if isinstance(value, str):
            return [v for v in value.replace(",", " ").split() if v]
        return value


class TimelineEntry(BaseModel):
    at: datetime
    actor: str
    kind: Literal["declared", "note", "update", "status", "severity", "command", "approval", "resolved", "channel"]
    text: str


class DecisionRecord(BaseModel):
    """One attempt to change the incident: who, when, what, and whether it was allowed."""

    at: datetime
    actor_id: str
    actor_name: str = ""
    action: str
    detail: str = ""
    allowed: bool


class IncidentState(BaseModel):
    title: str
    severity: str
    status: Status = "investigating"
    reporter: Actor | None = None
    commander: Actor | None = None
    responders: list[str] = Field(default_factory=list)
    started_at: datetime
    resolved_at: datetime | None = None
    last_update_at: datetime
    #: Where the incident is run (its own channel, or the origin thread after a fallback).
    conversation: ConversationKey
    conversation_name: str = ""
    origin: ConversationKey
    #: Why the incident stayed in the origin thread (the platform refused a new conversation).
    fallback_reason: str | None = None
    card: MessageRef | None = None
    #: Which picker row the card shows (after Change severity / Post update was clicked).
    picker: Picker | None = None
    timeline: list[TimelineEntry] = Field(default_factory=list)
    approvals: list[ApprovalRecord] = Field(default_factory=list)
    decisions: list[DecisionRecord] = Field(default_factory=list)
    reminders_sent: int = 0
    summary: str = ""
    postmortem: str = ""
    #: Posts and card updates the platform never accepted (newest last).
    undelivered: list[Undelivered] = Field(default_factory=list)

    def is_resolved(self) -> bool:
        return self.status == "resolved"
