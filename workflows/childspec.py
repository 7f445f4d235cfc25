"""ChildSpec: everything threadwork needs to know about one child workflow, in one record.

A child workflow (an incident, a document job, an operator's custom workflow) is one module
that exports a ``ChildSpec`` plus one registration: the built-in list
(workflows/builtin_children.py) or an entry of the custom-workflow registry
(workflows/registry.py, which may point straight at a ChildSpec). From the specs:

- the worker registers the workflow, its helper workflows and its activities;
- the trigger activity adds the spec's trigger rules and builds a chat-started child's args;
- the gateway puts each spec's ``ChildEntry`` (the serializable part: type, id segment, name,
  short names, operator options, hooks) into ``SessionConfig.children``, so a session reads
  them from its own input, never from module state the worker set at start-up (replay-safe);
- the session runs the spec's optional ``SessionHooks`` (chat commands, "already running",
  input preparation) without knowing what the child is.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from workflows.contracts import ChatMessage, ChildEntry, FileRef, Reply, SessionState, TriggerRule, WorkflowStart

if TYPE_CHECKING:
    from temporalio.client import Client

    from workflows.delivery import Poster


@dataclass(frozen=True)
class WorkerResources:
    """What a spec's activities may be built from (the worker's client and its options)."""

    client: Client
    #: workflows.worker.WorkerOptions (typed loosely: the worker imports the specs).
    options: Any


class SessionHooks:
    """Optional session behaviour of one child type; the defaults do nothing.

    Subclasses run inside ChatSessionWorkflow: they must be deterministic (I/O through
    activities) and keep their ``workflow.patched`` calls where recorded histories expect them.
    """

    def __init__(self, poster: Poster, entry: ChildEntry) -> None:
        self.poster = poster
        self.entry = entry

    async def command(self, msg: ChatMessage, state: SessionState) -> tuple[bool, Reply | None]:
        """A chat command for this child type: (handled, public reply)."""
        return False, None

    async def already_running(self, decision: WorkflowStart, state: SessionState) -> Reply | None:
        """A reply instead of starting ``decision`` (e.g. one of this type already runs here)."""
        return None

    async def prepare(self, decision: WorkflowStart) -> WorkflowStart:
        """The start decision of an explicit start by name, completed (e.g. a guessed severity)."""
        return decision


#: Builds a chat-started child's args from the message (runs in the match activity, not in a workflow).
StartArgs = Callable[[str, list[FileRef]], dict[str, Any]]


def text_args(text: str, files: list[FileRef]) -> dict[str, Any]:
    """The default for custom workflows: the message text as ``args["text"]``."""
    return {"text": text}


@dataclass(frozen=True)
class ChildSpec:
    #: The @workflow.defn class; it takes a ChildWorkflowInput.
    workflow: type
    #: The id segment: children are ``{session}/{kind}/{n}``.
    kind: str
    #: What replies call it: "I've started {display_name} for ...".
    display_name: str
    #: Short names for a start by name (``/threadwork run NAME``, the trigger_workflow signal).
    aliases: tuple[str, ...] = ()
    description: str = ""
    #: Rules checked after the operator's rules file (each starts this workflow).
    triggers: tuple[TriggerRule, ...] = ()
    #: The args of a chat-started child; None: as the rule decided (no args).
    start_args: StartArgs | None = None
    #: Validates ``ChildWorkflowInput.args`` (operator options merged with start args).
    options: type[BaseModel] | None = None
    #: Operator options from the process settings (bots.config.Settings), merged under every start's args.
    configure: Callable[[Any], dict[str, Any]] | None = None
    #: The activities the workflow calls, built once per worker.
    activities: Callable[[WorkerResources], Sequence[Callable[..., Any]]] | None = None
    #: Workflows the child starts itself (e.g. the incident's channel link).
    helper_workflows: tuple[type, ...] = ()
    #: Session behaviour (a SessionHooks subclass), loaded by the session from its ChildEntry.
    session_hooks: type[SessionHooks] | None = None

    @property
    def workflow_type(self) -> str:
        return workflow_type_of(self.workflow)

    def entry(self, settings: Any = None) -> ChildEntry:
        """The serializable part a session carries (``settings``: for ``configure``)."""
        args = self.configure(settings) if self.configure is not None and settings is not None else {}
        if self.options is not None:
            self.options.model_validate(args)  # a bad operator option fails at start-up, not in a child
        hooks = self.session_hooks
        return ChildEntry(
            workflow_type=self.workflow_type,
            kind=self.kind,
            display_name=self.display_name,
            aliases=list(self.aliases),
            args=args,
            hooks=f"{hooks.__module__}:{hooks.__qualname__}" if hooks is not None else None,
        )


def workflow_type_of(cls: type) -> str:
    """The registered name of a @workflow.defn class."""
    definition = getattr(cls, "__temporal_workflow_definition", None)
    if definition is None or definition.name is None:
        raise TypeError(f"{cls!r} is not a @workflow.defn class")
    return str(definition.name)
