"""A "next build" of the session workflow for tests/test_worker_versioning.py.

Registered under the same type name, it waits on a timer before every answer: a change
that cannot replay the histories of sessions started by the current code.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from workflows.chat_session import ChatSessionWorkflow
    from workflows.contracts import ChatMessage, SessionInput, SessionState


@workflow.defn(name="ChatSessionWorkflow")
class NextBuildSession(ChatSessionWorkflow):
    @workflow.init
    def __init__(self, inp: SessionInput) -> None:
        super().__init__(inp)

    @workflow.run
    async def run(self, inp: SessionInput) -> SessionState:
        return await super().run(inp)

    async def _answer(self, msg: ChatMessage) -> None:
        await workflow.sleep(timedelta(milliseconds=1))
        await super()._answer(msg)
