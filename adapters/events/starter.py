"""Starts one workflow per event under a deterministic id, so a redelivery is a no-op.

``USE_EXISTING`` answers a redelivery while the first workflow runs; ``REJECT_DUPLICATE``
refuses it after that workflow closed. Either way the sender gets 2xx and nothing
happens twice.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from adapters.events.common import BadEvent
from adapters.temporal_limits import id_problem, payload_problem
from workflows.contracts import DEFAULT_PLATFORM_RETRY_WINDOW, ChildWorkflowInput, ConversationKey
from workflows.incident import IncidentWorkflow
from workflows.platform_traits import PlatformTraits

log = logging.getLogger(__name__)


@dataclass
class Outcome:
    """What the route did with one payload (its JSON answer)."""

    #: Started now, or already running under that id (a redelivery while it runs).
    accepted: list[str] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)
    #: Why each ignored item was ignored, so a sender's operator can tell a deliberate
    #: ignore from a mistake without reading the gateway log.
    reasons: dict[str, str] = field(default_factory=dict)

    def ignore(self, item: str, reason: str) -> None:
        """Accepted but deliberately not acted on: say why in the 202 and in one INFO line."""
        self.ignored.append(item)
        self.reasons[item] = reason
        log.info("event ignored: %s: %s", item, reason)

    def as_json(self) -> dict[str, object]:
        return dict(self.__dict__)


class EventStarter:
    def __init__(
        self,
        client: Client,
        task_queue: str,
        events_key: ConversationKey,
        child_args: dict[str, dict[str, Any]] | None = None,
        platform_retry_window: float = DEFAULT_PLATFORM_RETRY_WINDOW,
        platforms: dict[str, PlatformTraits] | None = None,
    ) -> None:
        self.client = client
        #: The configured platforms' traits, carried in every child's input (workflows/platform_traits.py).
        self.platforms = platforms or {}
        self.platform_retry_window = platform_retry_window
        self.task_queue = task_queue
        self.events_key = events_key
        #: Operator options per workflow type (e.g. the incident responders), as sessions pass them.
        self.child_args = child_args or {}

    def child_input(self, title: str, args: dict[str, Any], severity: str | None = None) -> ChildWorkflowInput:
        return ChildWorkflowInput(
            origin=self.events_key,
            session_id="",
            title=title[:200],
            severity=severity,
            args=args,
            platform_retry_window_seconds=self.platform_retry_window,
            platforms=self.platforms,
        )

    async def start(
        self,
        outcome: Outcome,
        workflow_type: str,
        workflow_id: str,
        title: str,
        args: dict[str, Any],
        severity: str | None = None,
        reuse: WorkflowIDReusePolicy = WorkflowIDReusePolicy.REJECT_DUPLICATE,
    ) -> None:
        """Start ``workflow_id`` once. ``reuse=ALLOW_DUPLICATE`` lets an id open again after its
        workflow closed, for senders without a per-occurrence id (Grafana legacy alerts)."""
        child_input = self.child_input(title, {**self.child_args.get(workflow_type, {}), **args}, severity)
        problem = id_problem("workflow id", workflow_id) or payload_problem("event", child_input)
        if problem:  # Temporal would refuse it on every retry: a 400 that says why
            raise BadEvent(problem)
        try:
            await self.client.start_workflow(
                workflow_type,
                child_input,
                id=workflow_id,
                task_queue=self.task_queue,
                id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
                id_reuse_policy=reuse,
            )
        except WorkflowAlreadyStartedError:
            log.info("event %s was handled before; ignoring the redelivery", workflow_id)
            outcome.duplicates.append(workflow_id)
            return
        outcome.accepted.append(workflow_id)

    async def start_document(self, outcome: Outcome, workflow_id: str, doc: dict[str, Any]) -> None:
        await self.start(outcome, "DocumentProcessingWorkflow", workflow_id, doc["name"], {"documents": [doc]})

    async def notice(self, outcome: Outcome, workflow_id: str, text: str) -> None:
        await self.start(outcome, "EventNoticeWorkflow", workflow_id, text[:120], {"text": text})

    async def resolve(self, outcome: Outcome, workflow_id: str, reason: str, what: str) -> None:
        """``system_resolve`` the incident ``workflow_id``; nothing open is a deliberate ignore, said in the 202."""
        try:
            await self.client.get_workflow_handle(workflow_id).execute_update(IncidentWorkflow.system_resolve, reason)
        except RPCError as err:
            if err.status != RPCStatusCode.NOT_FOUND:
                raise
            outcome.ignore(
                workflow_id, f"{what} resolved, but no incident is open for it (never opened here, or already closed)"
            )
            return
        except WorkflowUpdateFailedError as err:  # e.g. resolved by a responder meanwhile
            outcome.ignore(workflow_id, f"{what} resolved, but its incident refused: {err.cause or err}")
            return
        outcome.updated.append(workflow_id)
