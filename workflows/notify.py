"""Children tell their session how they are doing (a signal by workflow id, so it
reaches the session's current run even after continue-as-new)."""

from __future__ import annotations

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from workflows.chat_session import ChatSessionWorkflow
    from workflows.contracts import ChildStatus


async def report_status(session_id: str, status: str) -> None:
    if not session_id:
        return
    handle = workflow.get_external_workflow_handle(session_id)
    try:
        report = ChildStatus(workflow_id=workflow.info().workflow_id, status=status)
        await handle.signal(ChatSessionWorkflow.child_status, report)
    except ApplicationError:
        # The session has ended; its next run starts fresh and does not list us.
        workflow.logger.info("session %s is closed; status %s not delivered", session_id, status)
