"""DeployApprovalWorkflow: ask for an approval before a deploy goes ahead (a custom workflow example).

Started by a chat phrase ("deploy api v1.4 to production"), by name (the session's
``trigger_workflow`` signal, ``/threadwork run deploy-approval api v1.4 to production``)
or by ``POST /events/webhook/deploy`` with ``{"service", "version", "environment",
"requested_by", "approvers", "callback_url"}``. The question goes to the conversation
that asked (the events channel for webhooks) through the reusable approval step of
workflows/approval.py; the requester may not approve their own deploy unless listed
as an approver. With a ``callback_url`` the pipeline is told the outcome.
"""

from __future__ import annotations

import re
from datetime import timedelta

from pydantic import BaseModel, Field, ValidationError
from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from workflows.approval import ApprovalRecord, ApprovalRequest, ApprovalStep
    from workflows.contracts import ActionEvent, ActionResult, Actor, ChildWorkflowInput, Reply
    from workflows.delivery import Poster
    from workflows.examples.deploy_activities import DeployDecision, notify_pipeline
    from workflows.notify import report_status

_REQUEST = re.compile(
    r"(?:deploy\s+)?(?P<service>[\w.-]+)(?:\s+(?P<version>v?\d[\w.+-]*))?\s+to\s+(?P<environment>[\w-]+)", re.IGNORECASE
)


class DeployRequest(BaseModel):
    service: str = Field(min_length=1, max_length=100)
    version: str = ""
    environment: str = Field("production", min_length=1, max_length=50)
    requested_by: str = ""
    approvers: list[str] = Field(default_factory=list)
    escalate_to: list[str] = Field(default_factory=list)
    timeout_seconds: float = Field(3600, gt=0)
    callback_url: str = ""

    def label(self) -> str:
        return " ".join(p for p in (self.service, self.version) if p) + f" to {self.environment}"


class DeployState(BaseModel):
    request: DeployRequest | None = None
    outcome: str = "pending"  # pending | approved | rejected | expired | cancelled | invalid
    problem: str = ""
    approval: ApprovalRecord | None = None
    pipeline_notified: bool = False


def parse_request(inp: ChildWorkflowInput) -> DeployRequest:
    """From a webhook payload, or from chat text such as "deploy api v1.4 to production"."""
    payload = inp.args.get("payload")
    if isinstance(payload, dict):
        return DeployRequest.model_validate(payload)
    text = str(inp.args.get("text") or inp.title)
    match = _REQUEST.search(text)
    if match is None:
        raise ValueError(f'I need a service and an environment, like "deploy api v1.4 to production" (got {text!r})')
    return DeployRequest(
        service=match["service"], version=match["version"] or "", environment=match["environment"].lower()
    )


@workflow.defn
class DeployApprovalWorkflow:
    @workflow.init
    def __init__(self, inp: ChildWorkflowInput) -> None:
        self.inp = inp
        self.state = DeployState()
        self.poster = Poster(platforms=inp.platforms)
        self.approvals = ApprovalStep(self.poster, authorize=self._may_approve)
        self._requester = inp.requested_by

    def _may_approve(self, actor: Actor) -> bool:
        """Four eyes: whoever asked for the deploy does not approve it."""
        return self._requester is None or actor.id != self._requester.id

    @workflow.run
    async def run(self, inp: ChildWorkflowInput) -> DeployState:
        try:
            req = parse_request(inp)
        except (ValueError, ValidationError) as err:
            self.state.outcome, self.state.problem = "invalid", str(err)
            await self.poster.post(inp.origin, Reply(text=f"Deploy approval not started: {err}"), inp.origin_context)
            await report_status(inp.session_id, "failed")
            return self.state
        self.state.request = req
        if self._requester is None and req.requested_by:
            self._requester = Actor(id=req.requested_by, name=req.requested_by)
        record = await self.approvals.request(
            ApprovalRequest(
                approval_id="deploy",
                question=f"Deploy {req.label()}?",
                conversation=inp.origin,
                context=inp.origin_context,
                requested_by=self._requester,
                approvers=req.approvers,
                timeout_seconds=req.timeout_seconds,
                escalate_to=req.escalate_to,
                escalation_timeout_seconds=req.timeout_seconds,
            )
        )
        self.state.approval, self.state.outcome = record, record.outcome
        if req.callback_url:
            await self._notify_pipeline(req, record)
        await report_status(inp.session_id, record.outcome)
        return self.state

    async def _notify_pipeline(self, req: DeployRequest, record: ApprovalRecord) -> None:
        decision = DeployDecision(
            callback_url=req.callback_url,
            deploy_id=workflow.info().workflow_id,
            service=req.service,
            version=req.version,
            environment=req.environment,
            outcome=record.outcome,
            decided_by=(record.decided_by.id if record.decided_by else ""),
        )
        try:
            await workflow.execute_activity(
                notify_pipeline,
                decision,
                start_to_close_timeout=timedelta(seconds=30),
                retry_policy=RetryPolicy(maximum_attempts=5, initial_interval=timedelta(seconds=1)),
            )
            self.state.pipeline_notified = True
        except ActivityError as err:
            await self.poster.post(
                self.inp.origin,
                Reply(text=f"Couldn't tell the pipeline about {req.label()}: {err.cause or err}"),
                self.inp.origin_context,
            )

    @workflow.update
    async def handle_action(self, event: ActionEvent) -> ActionResult:
        if ApprovalStep.owns(event.action_id):
            return await self.approvals.handle_action(event)
        return ActionResult(ephemeral=f"Unknown deploy action {event.action_id!r}.")

    @workflow.query
    def get_deploy_state(self) -> DeployState:
        return self.state
