"""DocumentProcessingWorkflow: fetch, extract and summarize documents, posting progress."""

from __future__ import annotations

from datetime import timedelta

from pydantic import BaseModel, Field
from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from workflows.activities.documents import DocumentActivities, DocumentSummary
    from workflows.contracts import ChildWorkflowInput, FileRef, Reply, TextBlock
    from workflows.delivery import Poster
    from workflows.notify import report_status

FETCH_RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_attempts=4)


class DocumentResult(BaseModel):
    summaries: list[DocumentSummary] = Field(default_factory=list)
    errors: list[str] = Field(default_factory=list)


def _failure_text(err: ActivityError) -> str:
    cause = err.cause
    if isinstance(cause, ApplicationError):
        return cause.message
    return str(cause or err)


@workflow.defn
class DocumentProcessingWorkflow:
    @workflow.init
    def __init__(self, inp: ChildWorkflowInput) -> None:
        self.result = DocumentResult()
        self.status = "starting"

    @workflow.run
    async def run(self, inp: ChildWorkflowInput) -> DocumentResult:
        poster = Poster()
        docs = [FileRef.model_validate(d) for d in inp.args.get("documents", [])]
        ctx = inp.origin_context
        if not docs:
            self.status = "failed"
            await poster.post(inp.origin, Reply(text="I didn't find a document or an http(s) link to process."), ctx)
            await report_status(inp.session_id, "failed")
            return self.result
        names = ", ".join(d.name for d in docs)
        self.status = "processing"
        await poster.post(inp.origin, Reply(text=f"Processing {len(docs)} document(s): {names}…"), ctx)
        for doc in docs:
            try:
                extracted = await workflow.execute_activity_method(
                    DocumentActivities.fetch_and_extract, doc,
                    start_to_close_timeout=timedelta(minutes=2), retry_policy=FETCH_RETRY,
                )
                summary = await workflow.execute_activity_method(
                    DocumentActivities.summarize, extracted,
                    start_to_close_timeout=timedelta(minutes=2), retry_policy=FETCH_RETRY,
                )
            except ActivityError as err:
                message = _failure_text(err)
                self.result.errors.append(message)
                await poster.post(inp.origin, Reply(text=f"Couldn't process {doc.name}: {message}"), ctx)
                continue
            self.result.summaries.append(summary)
            text = f"Summary of {summary.name}: {summary.title}\n{summary.summary}"
            await poster.post(
                inp.origin,
                Reply(text=text, blocks=[TextBlock(text=summary.title, style="heading"), TextBlock(text=summary.summary or "(no text)")]),
                ctx,
            )
        self.status = "failed" if self.result.errors and not self.result.summaries else "completed"
        await report_status(inp.session_id, self.status)
        return self.result

    @workflow.query
    def get_result(self) -> DocumentResult:
        return self.result
