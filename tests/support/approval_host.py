"""A minimal host workflow for the approval step: what any other workflow would write."""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from workflows.approval import ApprovalRecord, ApprovalRequest, ApprovalStep
    from workflows.contracts import ActionEvent, ActionResult
    from workflows.delivery import Poster


@workflow.defn
class ApprovalHostWorkflow:
    @workflow.init
    def __init__(self, req: ApprovalRequest) -> None:
        self.approvals = ApprovalStep(Poster())

    @workflow.run
    async def run(self, req: ApprovalRequest) -> ApprovalRecord:
        return await self.approvals.request(req)

    @workflow.update
    async def handle_action(self, event: ActionEvent) -> ActionResult:
        return await self.approvals.handle_action(event)

    @workflow.query
    def get_records(self) -> list[ApprovalRecord]:
        return list(self.approvals.records.values())
