"""EventNoticeWorkflow: post one notice for one external event (an S3 object removed...).

A workflow rather than a direct post so the event's deterministic workflow id makes a
redelivered event a no-op, and the post is retried like any other.
"""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from workflows.contracts import ChildWorkflowInput, Reply
    from workflows.delivery import DELIVERY_FAILURES, Poster


@workflow.defn
class EventNoticeWorkflow:
    @workflow.run
    async def run(self, inp: ChildWorkflowInput) -> str:
        text = str(inp.args.get("text") or inp.title)
        poster = Poster(inp.platform_retry_window_seconds, inp.platforms)
        reply = Reply(text=text)
        try:
            await poster.post(inp.origin, reply, inp.origin_context)
        except DELIVERY_FAILURES as err:
            # Logged at ERROR and counted; the workflow's result says it too.
            poster.undelivered(err, inp.origin, reply)
            return f"undelivered: {text}"
        return text
