"""A reusable approval step for any workflow: ask, wait durably, escalate, record.

Usage from a host workflow (create one ``ApprovalStep`` per run, in ``@workflow.init``)::

    self.approvals = ApprovalStep(self.poster, authorize=self._may_approve)

    @workflow.update
    async def handle_action(self, event: ActionEvent) -> ActionResult:
        if ApprovalStep.owns(event.action_id):
            return await self.approvals.handle_action(event)
        ...

    decision = await self.approvals.request(ApprovalRequest(
        approval_id="rollback-1", question="Approve rollback of checkout to v1.4.2?",
        conversation=key, timeout_seconds=900, escalate_to=["U-LEAD"]))
    if decision.outcome == "approved": ...

The question is posted with Approve/Reject buttons that route back to the host's
``handle_action`` update. The wait is a durable timer: when ``timeout_seconds`` pass
without a decision, an escalation message is posted and the step keeps waiting
(``escalation_timeout_seconds`` more, or until decided or cancelled when that is None).
The decision, its author and time are recorded, the question message is updated in
place (buttons removed) and the decision is posted. ``open`` + ``wait`` split the
step for hosts that must keep serving other updates while a question is pending.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel, Field
from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from workflows.contracts import (
        ActionEvent,
        ActionResult,
        Actor,
        Button,
        ButtonsBlock,
        ConversationKey,
        FieldsBlock,
        MessageRef,
        Reply,
        TextBlock,
        user_mention,
    )
    from workflows.delivery import DELIVERY_FAILURES, Poster

APPROVE = "approval.approve"
REJECT = "approval.reject"
Outcome = Literal["pending", "approved", "rejected", "expired", "cancelled"]


class ApprovalRequest(BaseModel):
    """One question. ``approval_id`` must be unique within the host workflow run."""

    approval_id: str
    question: str
    conversation: ConversationKey
    #: The platform reply context of ``conversation`` (e.g. a Teams reference), if any.
    context: dict[str, Any] | None = None
    requested_by: Actor | None = None
    #: Who may decide: user ids. Empty means whoever the host's ``authorize`` accepts
    #: (or anyone when the host gives no ``authorize``).
    approvers: list[str] = Field(default_factory=list)
    timeout_seconds: float = 900
    #: Named in the escalation message (user ids, a group, an on-call alias).
    escalate_to: list[str] = Field(default_factory=list)
    #: After escalating, wait this much longer, then expire; None waits until decided or cancelled.
    escalation_timeout_seconds: float | None = None
    #: Button labels (a confirmation of the model's tool call says "Cancel").
    approve_label: str = "Approve"
    reject_label: str = "Reject"


class ApprovalRecord(BaseModel):
    """What happened to one request: the audit trail the host keeps and shows."""

    approval_id: str
    question: str
    outcome: Outcome = "pending"
    requested_by: Actor | None = None
    requested_at: datetime
    decided_by: Actor | None = None
    decided_at: datetime | None = None
    escalated_at: datetime | None = None
    reason: str = ""
    message: MessageRef | None = None
    #: Refused clicks (who, when): kept so an audit shows every attempt.
    refusals: list[tuple[str, datetime]] = Field(default_factory=list)


def _who(actor: Actor | None) -> str:
    return (actor.name or actor.id) if actor else "threadwork"


def _minutes(seconds: float) -> str:
    return f"{seconds / 60:g} minutes" if seconds >= 60 else f"{seconds:g} seconds"


def question_reply(req: ApprovalRequest, record: ApprovalRecord, workflow_id: str) -> Reply:
    """The question message: buttons while pending, the outcome once decided."""
    status = {
        "pending": "waiting for a decision" + (" (escalated)" if record.escalated_at else ""),
        "approved": f"approved by {_who(record.decided_by)}",
        "rejected": f"rejected by {_who(record.decided_by)}",
        "expired": "expired without a decision",
        "cancelled": f"cancelled: {record.reason}",
    }[record.outcome]
    text = f"Approval needed: {req.question} ({status})"
    blocks: list[Any] = [
        TextBlock(text="Approval needed", style="heading"),
        TextBlock(text=req.question),
        FieldsBlock(fields=[("Requested by", user_mention(req.requested_by)), ("Status", status)]),
    ]
    if record.outcome == "pending":
        blocks.append(
            ButtonsBlock(
                buttons=[
                    Button(
                        label=req.approve_label,
                        action_id=APPROVE,
                        value=req.approval_id,
                        workflow_id=workflow_id,
                        style="primary",
                    ),
                    Button(
                        label=req.reject_label,
                        action_id=REJECT,
                        value=req.approval_id,
                        workflow_id=workflow_id,
                        style="danger",
                    ),
                ]
            )
        )
    return Reply(text=text, blocks=blocks)


def decision_text(record: ApprovalRecord) -> str:
    if record.outcome in ("approved", "rejected"):
        when = record.decided_at.strftime("%H:%M:%S UTC") if record.decided_at else ""
        return f"{record.outcome.capitalize()} by {_who(record.decided_by)} at {when}: {record.question}"
    if record.outcome == "expired":
        return f'No decision on "{record.question}": the approval expired.'
    return f'Approval "{record.question}" was cancelled: {record.reason}'


class ApprovalStep:
    """Pending and decided approvals of one workflow run (state lives in the host's memory/history)."""

    def __init__(
        self,
        poster: Poster,
        authorize: Callable[[Actor], bool] | None = None,
        on_event: Callable[[ApprovalRecord, str], None] | None = None,
    ) -> None:
        """``authorize`` decides who may answer requests without ``approvers``;
        ``on_event(record, what)`` hears "requested", "escalated" and each outcome (for a timeline)."""
        self._poster = poster
        self._authorize = authorize
        self._on_event = on_event
        self._requests: dict[str, ApprovalRequest] = {}
        self._finishing: set[str] = set()
        self.records: dict[str, ApprovalRecord] = {}

    @staticmethod
    def owns(action_id: str) -> bool:
        return action_id in (APPROVE, REJECT)

    def pending(self) -> list[str]:
        return [aid for aid, rec in self.records.items() if rec.outcome == "pending"]

    async def request(self, req: ApprovalRequest) -> ApprovalRecord:
        """Ask and wait for the outcome (approved, rejected, expired or cancelled)."""
        await self.open(req)
        return await self.wait(req.approval_id)

    async def open(self, req: ApprovalRequest) -> ApprovalRecord:
        if req.approval_id in self.records:
            raise ApplicationError(f"approval {req.approval_id!r} already exists", type="DuplicateApproval")
        record = ApprovalRecord(
            approval_id=req.approval_id,
            question=req.question,
            requested_by=req.requested_by,
            requested_at=workflow.now(),
        )
        self._requests[req.approval_id] = req
        self.records[req.approval_id] = record
        self._emit(record, "requested")
        record.message = await self._poster.post(
            req.conversation, question_reply(req, record, workflow.info().workflow_id), req.context
        )
        return record

    async def wait(self, approval_id: str) -> ApprovalRecord:
        req, record = self._requests[approval_id], self.records[approval_id]
        # Decided, and the click's update/post finished (so callers see the whole story).
        decided = lambda: record.outcome != "pending" and approval_id not in self._finishing  # noqa: E731
        try:
            await workflow.wait_condition(decided, timeout=timedelta(seconds=req.timeout_seconds))
            return record
        except TimeoutError:
            pass
        if record.outcome != "pending":
            await workflow.wait_condition(decided)
            return record
        record.escalated_at = workflow.now()
        self._emit(record, "escalated")
        targets = ", ".join(req.escalate_to) or "everyone who can approve"
        await self._say(
            req,
            f'Escalating: no decision on "{req.question}" after {_minutes(req.timeout_seconds)}. '
            f"{targets}: please approve or reject.",
        )
        await self._refresh(req, record)
        try:
            timeout = (
                None if req.escalation_timeout_seconds is None else timedelta(seconds=req.escalation_timeout_seconds)
            )
            await workflow.wait_condition(decided, timeout=timeout)
        except TimeoutError:
            await self._finish(req, record, "expired", None)
        return record

    def cancel(self, approval_id: str, reason: str) -> None:
        """Mark a pending approval cancelled (e.g. the incident was resolved); ``wait`` returns."""
        record = self.records.get(approval_id)
        if record is not None and record.outcome == "pending":
            record.outcome = "cancelled"
            record.reason = reason
            record.decided_at = workflow.now()
            self._emit(record, "cancelled")

    async def close_cancelled(self) -> None:
        """Update the messages of cancelled approvals so nobody clicks a dead button."""
        for aid, record in self.records.items():
            if record.outcome == "cancelled":
                await self._refresh(self._requests[aid], record)

    def may_decide(self, approval_id: str, actor: Actor) -> bool:
        req = self._requests[approval_id]
        if req.approvers:
            return actor.id in req.approvers
        return self._authorize(actor) if self._authorize else True

    async def handle_action(self, event: ActionEvent) -> ActionResult:
        record = self.records.get(event.value)
        if record is None:
            return ActionResult(ephemeral=f"There is no approval {event.value!r} here.")
        if record.outcome != "pending":
            return ActionResult(ephemeral=f"This approval is already {record.outcome}.")
        if not self.may_decide(event.value, event.actor):
            record.refusals.append((event.actor.id, workflow.now()))
            return ActionResult(ephemeral="You are not authorized to decide this approval; nothing changed.")
        outcome: Outcome = "approved" if event.action_id == APPROVE else "rejected"
        await self._finish(self._requests[event.value], record, outcome, event.actor)
        return ActionResult(update=question_reply(self._requests[event.value], record, workflow.info().workflow_id))

    async def _finish(
        self, req: ApprovalRequest, record: ApprovalRecord, outcome: Outcome, actor: Actor | None
    ) -> None:
        record.outcome = outcome
        record.decided_by = actor
        record.decided_at = workflow.now()
        self._emit(record, outcome)
        self._finishing.add(req.approval_id)
        try:
            await self._refresh(req, record)
            await self._say(req, decision_text(record))
        finally:
            self._finishing.discard(req.approval_id)

    def _emit(self, record: ApprovalRecord, what: str) -> None:
        if self._on_event is not None:
            self._on_event(record, what)

    async def _refresh(self, req: ApprovalRequest, record: ApprovalRecord) -> None:
        if record.message is None:
            return
        try:
            await self._poster.update(record.message, question_reply(req, record, workflow.info().workflow_id))
        except DELIVERY_FAILURES as err:
            workflow.logger.error("updating approval %s failed: %s", req.approval_id, err.cause or err)

    async def _say(self, req: ApprovalRequest, text: str) -> None:
        try:
            await self._poster.post(req.conversation, Reply(text=text), req.context)
        except DELIVERY_FAILURES as err:
            workflow.logger.error("posting approval news for %s failed: %s", req.approval_id, err.cause or err)
