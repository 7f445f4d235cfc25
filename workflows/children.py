"""Child workflows a conversation may start, by workflow type name -> id segment."""

from __future__ import annotations

CHILD_KINDS: dict[str, str] = {
    "IncidentWorkflow": "incident",
    "DocumentProcessingWorkflow": "document",
}


def is_known_child(workflow_type: str) -> bool:
    return workflow_type in CHILD_KINDS


def child_kind(workflow_type: str) -> str:
    return CHILD_KINDS.get(workflow_type, workflow_type.lower())
