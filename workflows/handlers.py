"""Typed references to workflow handlers for callers that cannot name one class.

Signals, updates and queries are sent by method reference (``ChatSessionWorkflow.end_session``),
so a renamed handler fails at import, not at run time. Two cases need help:

- a button's owner may be any workflow with a ``handle_action`` update (a session, an incident,
  a custom workflow): ``ActionTarget.handle_action`` names that shared update;
- ``Client.start_workflow(start_signal=...)`` takes a name: ``signal_name(method)`` gives it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from workflows.contracts import ActionEvent, ActionResult


class ActionTarget:
    """The update every workflow with buttons has (never registered itself: only a reference)."""

    @workflow.update
    async def handle_action(self, event: ActionEvent) -> ActionResult:
        raise NotImplementedError  # each workflow class defines its own


def signal_name(method: Callable[..., Any]) -> str:
    """The registered name of a ``@workflow.signal`` method."""
    definition = getattr(method, "__temporal_signal_definition", None)
    if definition is None or definition.name is None:
        raise TypeError(f"{method!r} is not a @workflow.signal method")
    return str(definition.name)
