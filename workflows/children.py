"""The child workflows one session may start, read from its own input (SessionConfig.children).

Workflow code looks children up here, never in module state a worker sets at start-up: a
session replays the same way whatever the worker's custom-workflow registry says today.
Sessions started before SessionConfig carried its children get the built-ins, as then.
"""

from __future__ import annotations

import importlib
from functools import lru_cache
from typing import Any

from temporalio import workflow

from workflows.childspec import SessionHooks
from workflows.contracts import ChildEntry, SessionConfig

#: The built-ins as sessions knew them before ``SessionConfig.children`` (code, never mutated).
LEGACY_CHILDREN = (
    ChildEntry(
        workflow_type="IncidentWorkflow",
        kind="incident",
        display_name="incident response",
        hooks="workflows.incident.incident_routing:IncidentHooks",
    ),
    ChildEntry(workflow_type="DocumentProcessingWorkflow", kind="document", display_name="document processing"),
)


class ChildCatalog:
    """Lookups over a session's child entries (pure; safe in workflow code)."""

    def __init__(self, config: SessionConfig) -> None:
        self.entries: list[ChildEntry] = list(config.children) or [e.model_copy() for e in LEGACY_CHILDREN]
        self._legacy_args = config.child_args
        self._by_type = {e.workflow_type: e for e in self.entries}
        self._by_alias = {alias: e for e in self.entries for alias in e.aliases}

    def spec_for(self, name: str) -> ChildEntry | None:
        """The entry for a workflow type or one of its short names, or None."""
        return self._by_type.get(name) or self._by_alias.get(name)

    def kind(self, workflow_type: str) -> str:
        """The id segment (a type the session does not know, e.g. a rule added later: its name, lowercased)."""
        entry = self._by_type.get(workflow_type)
        return entry.kind if entry is not None else workflow_type.lower()

    def display_name(self, workflow_type: str) -> str:
        entry = self._by_type.get(workflow_type)
        return entry.display_name if entry is not None and entry.display_name else workflow_type

    def args(self, workflow_type: str) -> dict[str, Any]:
        """Operator options of ``workflow_type`` (merged under a start's own args)."""
        entry = self._by_type.get(workflow_type)
        return {**self._legacy_args.get(workflow_type, {}), **(entry.args if entry is not None else {})}


@lru_cache(maxsize=64)
def load_hooks_class(path: str) -> type[SessionHooks]:
    """The SessionHooks class named ``module:Class`` (code of this build, so deterministic)."""
    module_name, _, attr = path.partition(":")
    with workflow.unsafe.imports_passed_through():  # the worker's module, not a sandbox copy
        target: Any = importlib.import_module(module_name)
    for part in attr.split("."):
        target = getattr(target, part)
    if not (isinstance(target, type) and issubclass(target, SessionHooks)):
        raise TypeError(f"session hooks {path!r} is not a SessionHooks subclass")
    return target
