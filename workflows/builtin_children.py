"""The built-in child workflows, and every child a worker or gateway knows (built-ins + the registry).

Adding a built-in child: write its module with a ChildSpec, add it to BUILTIN_CHILDREN.
Operators add theirs in the custom-workflow registry (workflows/registry.py) instead.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from workflows.childspec import ChildSpec
from workflows.contracts import ChildEntry
from workflows.documents_spec import DOCUMENTS
from workflows.incident.spec import INCIDENT
from workflows.registry import CustomWorkflowRegistry, load_registry

BUILTIN_CHILDREN: tuple[ChildSpec, ...] = (INCIDENT, DOCUMENTS)


def all_children(custom: CustomWorkflowRegistry | Path | None = None) -> list[ChildSpec]:
    """The built-ins, then the operator's custom workflows (a registry, or its file; None: the default file)."""
    registry = custom if isinstance(custom, CustomWorkflowRegistry) else load_registry(custom)
    builtin_types = {spec.workflow_type for spec in BUILTIN_CHILDREN}
    return list(BUILTIN_CHILDREN) + [spec for spec in registry.children() if spec.workflow_type not in builtin_types]


def child_entries(children: list[ChildSpec], settings: Any = None) -> list[ChildEntry]:
    """What a session carries (SessionConfig.children): each spec's entry, with its operator options."""
    return [spec.entry(settings) for spec in children]
