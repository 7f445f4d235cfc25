"""A toy child workflow registered only through a ChildSpec (tests/test_toy_child.py).

Nothing in workflows/, adapters/ or bots/ names it: the registry file of the test points at
``TOY_SPEC`` (or, for the replay test, at the class), and everything else follows from it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import Any

from pydantic import BaseModel
from temporalio import activity, workflow

with workflow.unsafe.imports_passed_through():
    from workflows.childspec import ChildSpec, SessionHooks, WorkerResources, text_args
    from workflows.contracts import ChatMessage, ChildWorkflowInput, Reply, SessionState, TriggerRule, WorkflowStart
    from workflows.delivery import Poster
    from workflows.notify import report_status


class ToyOptions(BaseModel):
    """The toy's options model: ``level`` comes from the operator (``configure``), ``text`` from chat."""

    level: int = 1
    text: str = ""


@activity.defn
async def toy_shout(text: str) -> str:
    """The toy's own activity (registered by the worker from the spec)."""
    return text.upper()


@workflow.defn(name="ToyChildWorkflow")
class ToyWorkflow:
    @workflow.run
    async def run(self, inp: ChildWorkflowInput) -> str:
        options = ToyOptions.model_validate(inp.args)
        shouted = await workflow.execute_activity(
            toy_shout, options.text or inp.title, start_to_close_timeout=timedelta(seconds=10)
        )
        said = f"toy says {shouted} at level {options.level}"
        await Poster(inp.platform_retry_window_seconds).post(inp.origin, Reply(text=said), inp.origin_context)
        await report_status(inp.session_id, "played")
        return said


class ToyHooks(SessionHooks):
    """A chat command (``toy ping``), an "already running" answer and input preparation."""

    async def command(self, msg: ChatMessage, state: SessionState) -> tuple[bool, Reply | None]:
        if msg.text.strip().lower() != "toy ping":
            return False, None
        return True, Reply(text=f"toy pong ({self.entry.display_name})")

    async def already_running(self, decision: WorkflowStart, state: SessionState) -> Reply | None:
        played = any(w.workflow_type == self.entry.workflow_type for w in state.triggered_workflows)
        if "again" in decision.title and played:
            return Reply(text="The toy was played here already.")
        return None

    async def prepare(self, decision: WorkflowStart) -> WorkflowStart:
        return decision.model_copy(update={"args": {"text": "by name", **decision.args}})


def toy_activities(resources: WorkerResources) -> Sequence[Callable[..., Any]]:
    return [toy_shout]


def toy_options(settings: Any) -> dict[str, Any]:
    return {"level": 7}


TOY_SPEC = ChildSpec(
    workflow=ToyWorkflow,
    kind="toy",
    display_name="the toy",
    aliases=("toy",),
    triggers=(TriggerRule(name="toy", workflow="ToyChildWorkflow", patterns=[r"\bplay with the toy\b"]),),
    start_args=text_args,
    options=ToyOptions,
    configure=toy_options,
    activities=toy_activities,
    session_hooks=ToyHooks,
)
