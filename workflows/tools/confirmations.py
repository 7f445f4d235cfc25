"""Approve/Cancel before a consequential tool call, through the reusable ApprovalStep.

The question is posted with buttons owned by the session; only the person whose message led
to the call may decide (``approvers``), by a click: the model has no tool that approves. The
wait runs beside the conversation (the session keeps answering) and expires after being
escalated once. ``on_decided`` runs the call, or records why it did not run.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from pydantic import BaseModel
from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from workflows.approval import ApprovalRecord, ApprovalRequest, ApprovalStep
    from workflows.contracts import ActionEvent, ActionResult, Actor, ConversationKey
    from workflows.delivery import Poster


class Proposal(BaseModel):
    approval_id: str
    question: str
    tool: str
    #: Validated arguments (the tool's pydantic model, dumped).
    args: dict[str, Any]
    actor: Actor
    origin_message_id: str
    #: Index of its ToolCallRecord in this run's records (to update its outcome).
    call_id: str
    incident_id: str | None = None


class Confirmations:
    def __init__(self, poster: Poster, on_decided: Callable[[Proposal, ApprovalRecord], Awaitable[None]]) -> None:
        self.step = ApprovalStep(poster)
        self._on_decided = on_decided
        self._watchers: list[asyncio.Task[None]] = []

    async def propose(
        self, proposal: Proposal, where: ConversationKey, context: dict[str, Any] | None, timeout: float
    ) -> None:
        await self.step.open(
            ApprovalRequest(
                approval_id=proposal.approval_id,
                question=proposal.question,
                conversation=where,
                context=context,
                requested_by=proposal.actor,
                approvers=[proposal.actor.id],
                timeout_seconds=timeout,
                escalate_to=[proposal.actor.name or proposal.actor.id],
                escalation_timeout_seconds=timeout,
                reject_label="Cancel",
            )
        )
        self._watchers.append(asyncio.create_task(self._watch(proposal)))

    async def _watch(self, proposal: Proposal) -> None:
        record = await self.step.wait(proposal.approval_id)
        await self._on_decided(proposal, record)

    async def handle_action(self, event: ActionEvent) -> ActionResult:
        return await self.step.handle_action(event)

    def count(self) -> int:
        return len(self.step.records)

    def settled(self) -> bool:
        """No confirmation is waiting or still acting (the session may end or continue-as-new)."""
        return all(task.done() for task in self._watchers)

    def cancel_pending(self, reason: str) -> None:
        for approval_id in self.step.pending():
            self.step.cancel(approval_id, reason)

    async def close_cancelled(self) -> None:
        await self.step.close_cancelled()
