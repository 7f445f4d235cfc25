"""DocumentProcessingWorkflow: fetch, extract and summarize documents, posting progress.

Started by a conversation (a shared file or link) or by an external event (S3, Azure
Blob, SharePoint) with the events channel as its origin. Progress updates one status
message in place; each summary or failure is posted in the same thread.
"""

from __future__ import annotations

from datetime import timedelta

from pydantic import BaseModel, Field
from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from workflows.activities.documents import (
        DocumentActivities,
        DocumentSummary,
        ExtractedDocument,
        extractive_summary,
    )
    from workflows.contracts import (
        UNDELIVERED_KEPT,
        ChildWorkflowInput,
        ConversationKey,
        FileRef,
        MessageRef,
        Reply,
        TextBlock,
        Undelivered,
    )
    from workflows.delivery import DELIVERY_FAILURES, Poster
    from workflows.failures import failure_message
    from workflows.notify import report_status

FETCH_RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_attempts=4)
LLM_RETRY = RetryPolicy(initial_interval=timedelta(seconds=2), maximum_attempts=3)


class DocumentResult(BaseModel):
    summaries: list[DocumentSummary] = Field(default_factory=list)
    errors: list[str] = Field(default_factory=list)
    status: str = "starting"
    #: Progress and summaries the platform never accepted (newest last).
    undelivered: list[Undelivered] = Field(default_factory=list)


def failure_sentence(name: str, reason: str) -> str:
    """One plain sentence naming the file once: "I couldn't process r1.txt: example.com could not be reached."."""
    reason = reason.strip().rstrip(".") or "something went wrong"
    if name and name in reason:
        return reason[0].upper() + reason[1:] + "."
    return f"I couldn't process {name}: {reason}."


@workflow.defn
class DocumentProcessingWorkflow:
    @workflow.init
    def __init__(self, inp: ChildWorkflowInput) -> None:
        self.result = DocumentResult()
        self._poster = Poster(inp.platform_retry_window_seconds, inp.platforms)
        self._where: ConversationKey = inp.origin
        self._ctx = inp.origin_context
        self._status_ref: MessageRef | None = None

    @workflow.run
    async def run(self, inp: ChildWorkflowInput) -> DocumentResult:
        docs = [FileRef.model_validate(d) for d in inp.args.get("documents", [])]
        if not docs:
            await self._say("I didn't find a document or an http(s) link to process.")
            return await self._finish(inp, "failed")
        names = ", ".join(d.name for d in docs)
        self.result.status = "processing"
        self._status_ref = await self._say(f"Processing {len(docs)} document(s): {names}…")
        threads = self._poster.traits(self._where.platform).threads
        if self._status_ref is not None and self._where.thread is None and threads:
            self._where = self._where.model_copy(update={"thread": self._status_ref.message_id})
        for n, doc in enumerate(docs, 1):
            await self._progress(f"Processing {names}: reading {doc.name} ({n}/{len(docs)})…")
            try:
                extracted = await workflow.execute_activity_method(
                    DocumentActivities.fetch_and_extract,
                    doc,
                    start_to_close_timeout=timedelta(minutes=2),
                    retry_policy=FETCH_RETRY,
                )
            except ActivityError as err:
                message = failure_sentence(doc.name, failure_message(err))
                self.result.errors.append(message)
                await self._say(message)
                continue
            await self._progress(f"Processing {names}: summarizing {doc.name} ({n}/{len(docs)})…")
            summary = await self._summarize(extracted)
            self.result.summaries.append(summary)
            await self._say(
                f"Summary of {summary.name}: {summary.title}\n{summary.summary}",
                [
                    TextBlock(text=f"{summary.name}: {summary.title}", style="heading"),
                    TextBlock(text=summary.summary or "(no text)"),
                ],
            )
        status = "failed" if self.result.errors and not self.result.summaries else "completed"
        done = f"{len(self.result.summaries)} summarized, {len(self.result.errors)} failed"
        await self._progress(f"Processed {names}: {done}.")
        return await self._finish(inp, status)

    async def _summarize(self, doc: ExtractedDocument) -> DocumentSummary:
        try:
            return await workflow.execute_activity_method(
                DocumentActivities.summarize,
                doc,
                start_to_close_timeout=timedelta(minutes=2),
                retry_policy=LLM_RETRY,
            )
        except ActivityError:
            # The language model is down: the built-in summary is pure and deterministic.
            workflow.logger.warning("summarizing %s failed; using the extractive summary", doc.name)
            title, summary = extractive_summary(doc.text)
            return DocumentSummary(name=doc.name, title=title or doc.name, summary=summary, characters=len(doc.text))

    async def _say(self, text: str, blocks: list | None = None) -> MessageRef | None:
        reply = Reply(text=text, blocks=blocks or [])
        try:
            return await self._poster.post(self._where, reply, self._ctx)
        except DELIVERY_FAILURES as err:
            self._undelivered(err, self._where, reply, "post")
            return None

    async def _progress(self, text: str) -> None:
        if self._status_ref is not None:
            reply = Reply(text=text)
            try:
                await self._poster.update(self._status_ref, reply)
            except DELIVERY_FAILURES as err:
                self._undelivered(err, self._status_ref.key, reply, "update")

    def _undelivered(self, err: BaseException, key: ConversationKey, reply: Reply, what: str) -> None:
        self.result.undelivered.append(self._poster.undelivered(err, key, reply, what))
        del self.result.undelivered[:-UNDELIVERED_KEPT]

    async def _finish(self, inp: ChildWorkflowInput, status: str) -> DocumentResult:
        self.result.status = status
        await report_status(inp.session_id, status)
        return self.result

    @workflow.query
    def get_result(self) -> DocumentResult:
        return self.result
