"""Child workflows a conversation may start, by workflow type name -> id segment.

Custom workflows from the operator's registry (workflows/registry.py) are added here
when the worker starts, so sessions can start them by type or by their short name.
"""

from __future__ import annotations

CHILD_KINDS: dict[str, str] = {
    "IncidentWorkflow": "incident",
    "DocumentProcessingWorkflow": "document",
}
#: Short names (``deploy-approval``) -> workflow type, for commands like ``/threadwork run NAME``.
CHILD_ALIASES: dict[str, str] = {}


def register_child(workflow_type: str, kind: str, alias: str | None = None) -> None:
    CHILD_KINDS[workflow_type] = kind
    if alias:
        CHILD_ALIASES[alias] = workflow_type


def resolve_child(name: str) -> str | None:
    """The workflow type for a type name or a registered short name, or None."""
    if name in CHILD_KINDS:
        return name
    return CHILD_ALIASES.get(name)


def is_known_child(workflow_type: str) -> bool:
    return resolve_child(workflow_type) is not None


def child_kind(workflow_type: str) -> str:
    return CHILD_KINDS.get(workflow_type, workflow_type.lower())
