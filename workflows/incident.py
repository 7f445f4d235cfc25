"""IncidentWorkflow: declared from a conversation, lives until someone resolves it.

This is the first slice: it posts a live incident card into the conversation that
declared it, updates that card in place, and reports its status to the session.
"""

from __future__ import annotations

from datetime import datetime

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
        ChildWorkflowInput,
        ConversationKey,
        FieldsBlock,
        MessageRef,
        Reply,
        TextBlock,
    )
    from workflows.delivery import Poster
    from workflows.notify import report_status


class TimelineEntry(BaseModel):
    at: datetime
    actor: str
    text: str


class IncidentState(BaseModel):
    title: str
    severity: str
    status: str = "investigating"
    commander: Actor | None = None
    started_at: datetime
    resolved_at: datetime | None = None
    conversation: ConversationKey
    card: MessageRef | None = None
    timeline: list[TimelineEntry] = Field(default_factory=list)


def incident_card(state: IncidentState, workflow_id: str) -> Reply:
    commander = state.commander.name or state.commander.id if state.commander else "unassigned"
    text = f"Incident {state.severity}: {state.title} | status {state.status} | commander {commander}"
    blocks = [
        TextBlock(text=f"Incident: {state.title}", style="heading"),
        FieldsBlock(
            fields=[
                ("Severity", state.severity),
                ("Status", state.status),
                ("Commander", commander),
                ("Started", state.started_at.strftime("%Y-%m-%d %H:%M UTC")),
            ]
        ),
    ]
    if state.status != "resolved":
        blocks.append(
            ButtonsBlock(
                buttons=[Button(label="Resolve", action_id="incident.resolve", workflow_id=workflow_id, style="primary")]
            )
        )
    return Reply(text=text, blocks=blocks)


@workflow.defn
class IncidentWorkflow:
    @workflow.init
    def __init__(self, inp: ChildWorkflowInput) -> None:
        self.inp = inp
        self.state = IncidentState(
            title=inp.title,
            severity=inp.severity or "SEV3",
            commander=inp.requested_by,
            started_at=workflow.now(),
            conversation=inp.origin,
        )
        self._poster = Poster()

    @workflow.run
    async def run(self, inp: ChildWorkflowInput) -> IncidentState:
        self._log(inp.requested_by, f"Incident declared: {inp.title}")
        self.state.card = await self._poster.post(
            inp.origin, incident_card(self.state, workflow.info().workflow_id), inp.origin_context
        )
        await workflow.wait_condition(lambda: self.state.status == "resolved")
        await workflow.wait_condition(workflow.all_handlers_finished)
        await self._poster.post(inp.origin, Reply(text=f"Incident resolved: {self.state.title}."), inp.origin_context)
        await report_status(inp.session_id, "resolved")
        return self.state

    def _log(self, actor: Actor | None, text: str) -> None:
        name = (actor.name or actor.id) if actor else "threadwork"
        self.state.timeline.append(TimelineEntry(at=workflow.now(), actor=name, text=text))

    @workflow.update
    async def handle_action(self, event: ActionEvent) -> ActionResult:
        if event.action_id != "incident.resolve":
            return ActionResult(ephemeral=f"Unknown incident action {event.action_id!r}.")
        self.state.status = "resolved"
        self.state.resolved_at = workflow.now()
        self._log(event.actor, "Resolved")
        card = incident_card(self.state, workflow.info().workflow_id)
        if self.state.card is not None:
            await self._poster.update(self.state.card, card)
        return ActionResult(update=card)

    @workflow.update
    async def system_resolve(self, reason: str) -> IncidentState:
        """Resolve from an external source (a monitoring alert that cleared): no user to authorize."""
        if self.state.status != "resolved":
            self.state.status = "resolved"
            self.state.resolved_at = workflow.now()
            self._log(None, f"Resolved: {reason}")
            if self.state.card is not None:
                await self._poster.update(self.state.card, incident_card(self.state, workflow.info().workflow_id))
        return self.state

    @handle_action.validator
    def validate_action(self, event: ActionEvent) -> None:
        if self.state.status == "resolved":
            raise ApplicationError("this incident is already resolved", type="AlreadyResolved")

    @workflow.query
    def get_incident_state(self) -> IncidentState:
        return self.state
