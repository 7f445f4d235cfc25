"""Who may use which tool, and which calls wait for a human: enforced here, in the workflow, never in the prompt.

A tool call acts as the person whose message caused it, so it may do what that person could do
with a button or command, no more: guests start nothing (no incident, no workflow) and change
no incident; the incident itself still checks commander / responders for its tools.
"""

from __future__ import annotations

from pydantic import BaseModel

from workflows.tools.models import ToolsConfig
from workflows.tools.specs import PostIncidentUpdateArgs, RunWorkflowArgs, StartIncidentArgs

MEMBERS_ONLY = ("start_incident", "run_workflow", "post_incident_update", "set_severity")


def _what(tool: str) -> str:
    return {"start_incident": "start an incident", "run_workflow": "run a workflow"}.get(tool, "change an incident")


def refusal(tool: str, is_guest: bool) -> str | None:
    """Why the requester may not use ``tool``, for the model (None: allowed)."""
    if is_guest and tool in MEMBERS_ONLY:
        return f"refused: the person who asked is a guest, and guests cannot {_what(tool)}. Nothing was done; a member can."
    return None


def refusal_note(tool: str) -> str:
    """The same refusal for the person, added to the reply whatever the model writes."""
    return f"I did not {_what(tool)}: guests cannot do that here. A workspace member can."


def needs_confirmation(args: BaseModel, config: ToolsConfig) -> bool:
    """Consequential calls: an incident the model proposes (an explicit declaration would have matched
    a trigger rule first), a workflow marked ``confirm: true``, and resolving an incident."""
    if isinstance(args, StartIncidentArgs):
        return True
    if isinstance(args, RunWorkflowArgs):
        return any(w.name == args.name and w.confirm for w in config.workflows)
    if isinstance(args, PostIncidentUpdateArgs):
        return args.text.strip().lower().rstrip(".!") == "resolved"
    return False
