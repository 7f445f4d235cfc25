"""The tools' way to the incident child: through its session hooks, never through the session.

The session knows nothing about incidents; it hands the tools every child's SessionHooks. The
incident tools (start_incident, post_incident_update, set_severity) use the hooks that offer
what they need (the incident's IncidentHooks, workflows/incident/incident_routing.py): which
incident runs here, whether a declaration would be a second one, and changing it. Matched by
shape, not by import: the incident package imports the session (its status signal), so the
session's modules cannot import it back.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal, Protocol, runtime_checkable

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from workflows.childspec import SessionHooks
    from workflows.contracts import ActionEvent, ActionResult, Actor, ChildEntry, Reply, SessionState, WorkflowStart

#: What a tool changes in a running incident: its severity, or a status update ("resolved" resolves).
Change = Literal["severity", "update"]


@runtime_checkable
class IncidentAccess(Protocol):
    entry: ChildEntry

    async def running_incident(self, state: SessionState) -> str | None: ...

    async def already_running(self, decision: WorkflowStart, state: SessionState) -> Reply | None: ...

    async def send_action(self, incident_id: str, event: ActionEvent) -> ActionResult: ...

    def change_event(
        self, state: SessionState, actor: Actor, change: Change, value: str, event_id: str
    ) -> ActionEvent: ...


def incident_access(child_hooks: Mapping[str, SessionHooks]) -> IncidentAccess | None:
    """The incident's hooks among a session's children, or None when this session has no incident child."""
    return next((h for h in child_hooks.values() if isinstance(h, IncidentAccess)), None)
