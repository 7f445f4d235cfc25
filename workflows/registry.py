"""Custom workflows: an operator adds a workflow in config, without touching the core.

Each entry names a workflow class or a ChildSpec (workflows/childspec.py) by module path
(``package.module:Class``, ``package.module:SPEC``), its trigger phrases (case-insensitive regexes, checked after the built-in trigger rules), a webhook
name (``POST /events/webhook/{name}``) and optionally a list of activities
(``package.module:attr``, a list or a function returning one). The worker registers the
classes and activities; sessions start them by trigger phrase or by name (the
``trigger_workflow`` signal, ``/threadwork run NAME``). Every custom workflow takes a
``ChildWorkflowInput``: ``args["text"]`` from chat, ``args["payload"]`` from a webhook or
from the language model's ``run_workflow`` tool (validated against ``arguments:``; with
``confirm: true`` a human approves first: docs/ai.md).
Every entry becomes a ChildSpec, the same record the built-ins are (``CustomWorkflow.child``).

The file is THREADWORK_CUSTOM_WORKFLOWS, or workflows/custom_workflows.default.yaml.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, Field, ValidationError, field_validator

from workflows.childspec import ChildSpec, WorkerResources, text_args, workflow_type_of
from workflows.contracts import TriggerRule
from workflows.tools.models import ArgumentSpec, WorkflowTool

DEFAULT_REGISTRY_FILE = Path(__file__).with_name("custom_workflows.default.yaml")
NAME_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,62}$"


class RegistryError(ValueError):
    """The registry file or one of its entries is invalid (the message says which)."""


class CustomWorkflowSpec(BaseModel):
    name: str = Field(pattern=NAME_PATTERN)
    entry_point: str = Field(pattern=r"^[\w.]+:[\w.]+$")
    description: str = ""
    triggers: list[str] = Field(default_factory=list)
    webhook: str | None = Field(None, pattern=NAME_PATTERN)
    activities: str | None = Field(None, pattern=r"^[\w.]+:[\w.]+$")
    #: The arguments the language model passes with ``run_workflow`` (validated before anything starts).
    arguments: dict[str, ArgumentSpec] = Field(default_factory=dict)
    #: A human confirms with Approve/Cancel before the model's ``run_workflow`` starts it.
    confirm: bool = False

    @field_validator("triggers")
    @classmethod
    def _compiles(cls, patterns: list[str]) -> list[str]:
        for pattern in patterns:
            try:
                re.compile(pattern)
            except re.error as err:
                raise ValueError(f"bad trigger pattern {pattern!r}: {err}") from err
        return patterns


class WorkflowListing(BaseModel):
    """What ``/threadwork workflows`` shows for one custom workflow."""

    name: str
    workflow_type: str
    description: str
    triggers: list[str]
    webhook: str | None
    webhook_path: str | None


@dataclass
class CustomWorkflow:
    spec: CustomWorkflowSpec
    #: The entry as a ChildSpec: the one its entry point names, or one built from the entry.
    child: ChildSpec

    @property
    def cls(self) -> type:
        return self.child.workflow

    @property
    def workflow_type(self) -> str:
        return self.child.workflow_type

    def listing(self) -> WorkflowListing:
        return WorkflowListing(
            name=self.spec.name,
            workflow_type=self.workflow_type,
            description=self.spec.description,
            triggers=self.spec.triggers,
            webhook=self.spec.webhook,
            webhook_path=f"/events/webhook/{self.spec.webhook}" if self.spec.webhook else None,
        )


def _resolve(entry_point: str) -> Any:
    module_name, _, attr = entry_point.partition(":")
    try:
        target: Any = importlib.import_module(module_name)
        for part in attr.split("."):
            target = getattr(target, part)
    except (ImportError, AttributeError) as err:
        raise RegistryError(f"cannot load {entry_point!r}: {err}") from err
    return target


class CustomWorkflowRegistry:
    def __init__(self, workflows: list[CustomWorkflow]) -> None:
        self.workflows = workflows
        self._by_name = {w.spec.name: w for w in workflows}
        self._by_webhook = {w.spec.webhook: w for w in workflows if w.spec.webhook}

    def get(self, name: str) -> CustomWorkflow | None:
        return self._by_name.get(name)

    def for_webhook(self, name: str) -> CustomWorkflow | None:
        return self._by_webhook.get(name)

    def tools(self) -> list[WorkflowTool]:
        """What the language model may run with ``run_workflow`` (SessionConfig.tools)."""
        return [
            WorkflowTool(
                name=w.spec.name,
                workflow_type=w.workflow_type,
                description=w.spec.description,
                arguments=w.spec.arguments,
                confirm=w.spec.confirm,
            )
            for w in self.workflows
        ]

    def listings(self) -> list[WorkflowListing]:
        return [w.listing() for w in self.workflows]

    def children(self) -> list[ChildSpec]:
        """Each entry as a ChildSpec (the same record the built-ins are)."""
        return [w.child for w in self.workflows]

    def check_against(self, builtins: list[type]) -> None:
        """Refuse a custom workflow that reuses a built-in workflow type's name with another class."""
        taken = {getattr(cls, "__temporal_workflow_definition").name: cls for cls in builtins}
        for w in self.workflows:
            other = taken.get(w.workflow_type)
            if other is not None and other is not w.cls:
                raise RegistryError(
                    f"custom workflow {w.spec.name!r} ({w.spec.entry_point}) is named {w.workflow_type!r}, "
                    f"a built-in workflow type: give it another @workflow.defn(name=...)"
                )


def _activities(entry_point: str) -> list[Callable[..., Any]]:
    """The activities ``entry_point`` names: a list, one activity, or a function returning a list."""
    target = _resolve(entry_point)
    items = target() if callable(target) and not hasattr(target, "__temporal_activity_definition") else target
    return list(items) if isinstance(items, (list, tuple)) else [items]


def _child(spec: CustomWorkflowSpec, target: Any, where: str) -> ChildSpec:
    """The ChildSpec of one entry: its own (a ChildSpec entry point) or one built from a workflow class.
    The entry's name becomes a short name, its phrases trigger rules; its activities are added."""
    if isinstance(target, ChildSpec):
        base = target
    else:
        try:
            workflow_type_of(target)
        except TypeError:
            raise RegistryError(f"{where}: {spec.entry_point!r} is not a @workflow.defn class or a ChildSpec") from None
        base = ChildSpec(workflow=target, kind=spec.name, display_name=workflow_type_of(target))
    rules = (TriggerRule(name=spec.name, workflow=base.workflow_type, patterns=spec.triggers),) if spec.triggers else ()
    extra = _activities(spec.activities) if spec.activities else []
    own = base.activities

    def activities(resources: WorkerResources) -> list[Callable[..., Any]]:
        return [*(own(resources) if own is not None else []), *extra]

    return replace(
        base,
        aliases=base.aliases if spec.name in base.aliases else (*base.aliases, spec.name),
        description=spec.description or base.description,
        triggers=(*base.triggers, *rules),
        start_args=base.start_args or text_args,
        activities=activities,
    )


def load_registry(path: Path | None = None) -> CustomWorkflowRegistry:
    path = path or DEFAULT_REGISTRY_FILE
    try:
        mtime = path.stat().st_mtime_ns
    except OSError as err:
        raise RegistryError(
            f"custom workflows file {path}: {err.strerror or err} (THREADWORK_CUSTOM_WORKFLOWS)"
        ) from None
    return _load_cached(str(path), mtime)


def _specs(path: str) -> list[CustomWorkflowSpec]:
    """The file's entries; every problem is one line naming the file and the entry."""
    where = f"custom workflows file {path}"
    try:
        data = yaml.safe_load(Path(path).read_text()) or {}
    except OSError as err:
        raise RegistryError(f"{where}: {err.strerror or err} (THREADWORK_CUSTOM_WORKFLOWS)") from None
    except UnicodeDecodeError as err:
        raise RegistryError(f"{where}: not UTF-8 text ({err.reason})") from None
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        at = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
        problem = " ".join(str(getattr(err, "problem", None) or err).split())
        raise RegistryError(f"{where}: not valid YAML: {at}{problem}") from None
    entries = data.get("workflows", []) if isinstance(data, dict) else None
    if not isinstance(entries, list):
        raise RegistryError(f"{where}: expected a mapping with a list under 'workflows:'")
    specs = []
    for index, entry in enumerate(entries):
        try:
            specs.append(CustomWorkflowSpec.model_validate(entry))
        except ValidationError as err:
            first = err.errors()[0]
            field = ".".join(str(p) for p in first.get("loc", ())) or "entry"
            raise RegistryError(f"{where}: entry #{index + 1}: {field}: {first.get('msg', 'invalid')}") from None
    return specs


@lru_cache(maxsize=8)
def _load_cached(path: str, _mtime: int) -> CustomWorkflowRegistry:
    specs = _specs(path)
    seen: set[str] = set()
    workflows = []
    for spec in specs:
        for label in (f"name {spec.name}", f"webhook {spec.webhook}" if spec.webhook else ""):
            if label and label in seen:
                raise RegistryError(f"custom workflows file {path}: {label} is used twice")
            seen.add(label)
        where = f"custom workflows file {path}: entry {spec.name!r}"
        try:
            target = _resolve(spec.entry_point)
            child = _child(spec, target, where)
        except RegistryError as err:
            raise RegistryError(str(err) if str(err).startswith(where) else f"{where}: {err}") from None
        workflows.append(CustomWorkflow(spec, child))
    return CustomWorkflowRegistry(workflows)


def list_workflows(path: Path | None = None) -> list[WorkflowListing]:
    """The custom workflows an operator registered (for ``/threadwork workflows``)."""
    return load_registry(path).listings()
