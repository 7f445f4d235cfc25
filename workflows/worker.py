"""Builds the threadwork Worker: every workflow and activity on one task queue."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import timedelta
from pathlib import Path
from typing import Any

from temporalio.client import Client
from temporalio.common import VersioningBehavior, WorkerDeploymentVersion
from temporalio.worker import Worker, WorkerDeploymentConfig

from workflows import TASK_QUEUE
from workflows.activities.child_progress import ChildProgressActivities
from workflows.activities.fetchers import SourceSettings
from workflows.activities.llm_turn import ModelTurnActivities
from workflows.activities.platform import PlatformActivities
from workflows.activities.replies import LLMConfig, ModelClientOwner, ReplyActivities
from workflows.activities.stopped_turn import StoppedTurnActivities
from workflows.activities.streaming_model_turn import StreamingModelTurnActivities
from workflows.activities.streaming_turn import StreamingTurnActivities
from workflows.activities.triggering import TriggerActivities
from workflows.activities.turn import TurnActivities
from workflows.builtin_children import BUILTIN_CHILDREN, all_children
from workflows.chat_session import ChatSessionWorkflow
from workflows.childspec import ChildSpec, WorkerResources
from workflows.notice import EventNoticeWorkflow
from workflows.platform_port import PlatformRegistry
from workflows.registry import CustomWorkflowRegistry, load_registry
from workflows.sandbox_runner import workflow_runner

log = logging.getLogger(__name__)

#: Longest wait between two heartbeats a worker sends (Stop waits for the next one; issue 13: within 2 s).
HEARTBEAT_THROTTLE = timedelta(milliseconds=500)


def spec_workflows(children: list[ChildSpec] | tuple[ChildSpec, ...]) -> list[type]:
    """The workflow classes of ``children`` and their helpers, each once, in order."""
    found: list[type] = []
    for spec in children:
        for cls in (spec.workflow, *spec.helper_workflows):
            if cls not in found:
                found.append(cls)
    return found


#: The core workflows and the built-in children's (what the recorded histories cover).
WORKFLOWS = [ChatSessionWorkflow, *spec_workflows(BUILTIN_CHILDREN), EventNoticeWorkflow]


@dataclass
class WorkerOptions:
    task_queue: str = TASK_QUEUE
    llm: LLMConfig | None = None
    triggers_file: Path | None = None
    document_max_bytes: int = 20 * 1024 * 1024
    #: Credentials and endpoints of the document sources (S3, Azure Blob, Graph, Slack files).
    sources: SourceSettings | None = None
    #: The operator's custom workflows (YAML); None: workflows/custom_workflows.default.yaml.
    custom_workflows_file: Path | None = None
    #: Sessions kept in memory; the rest replay from history on their next message.
    #: Memory grows with this number, not with the number of open sessions.
    max_cached_workflows: int = 300
    #: Worker Versioning: the Worker Deployment version this worker serves; None: unversioned.
    deployment: WorkerDeploymentVersion | None = None
    #: Classes that take the place of the built-in workflow registered under the same name
    #: (a test's "next build" of a workflow).
    replace_workflows: list[type] = field(default_factory=list)


def registered_workflows(custom: CustomWorkflowRegistry, replace: list[type] | None = None) -> list[type]:
    """The built-in workflows and the operator's custom ones (each class once); a class in
    ``replace`` stands in for the one registered under its name."""
    replacing = {name: cls for cls, name in zip(replace or [], workflow_types(replace or []), strict=True)}
    builtin = [replacing.get(name, cls) for cls, name in zip(WORKFLOWS, workflow_types(WORKFLOWS), strict=True)]
    return builtin + [cls for cls in spec_workflows(custom.children()) if cls not in WORKFLOWS]


def deployment_config(version: WorkerDeploymentVersion | None) -> WorkerDeploymentConfig | None:
    """Versioned workers pin every run (sessions, incidents, all others) to their build. The
    behavior is set here, not on the classes: a class's behavior is sent by unversioned
    workers too, and the server refuses it from them (`threadwork dev`)."""
    if version is None:
        return None
    return WorkerDeploymentConfig(
        version=version, use_worker_versioning=True, default_versioning_behavior=VersioningBehavior.PINNED
    )


def workflow_types(classes: list[type]) -> list[str]:
    """The registered names of @workflow.defn classes (what a trigger rule may start)."""
    return [getattr(cls, "__temporal_workflow_definition").name for cls in classes]


class ThreadworkWorker(Worker):
    """A Worker that closes what its activities opened (the model clients' connections) once it has
    stopped and its activities have finished, however it was run (``run()`` or ``async with``)."""

    def __init__(self, client: Client, *, closers: Sequence[Callable[[], Awaitable[None]]], **options: Any) -> None:
        super().__init__(client, **options)
        self.closers = list(closers)

    async def run(self) -> None:
        try:
            await super().run()
        finally:
            for close in self.closers:
                try:
                    await close()
                except Exception:  # one failing close must not keep the others open
                    log.exception("closing a worker resource failed")


def _model_clients(*owners: object) -> list[Callable[[], Awaitable[None]]]:
    """``aclose`` of each distinct activity object that owns a model client."""
    distinct = {id(owner): owner for owner in owners if isinstance(owner, ModelClientOwner)}
    return [owner.aclose for owner in distinct.values()]


def build_worker(client: Client, registry: PlatformRegistry, options: WorkerOptions | None = None) -> Worker:
    options = options or WorkerOptions()
    replies = ReplyActivities(options.llm)
    platform = PlatformActivities(registry)
    custom = load_registry(options.custom_workflows_file)
    custom.check_against(WORKFLOWS)
    children = all_children(custom)
    workflows = registered_workflows(custom, options.replace_workflows)
    # Rules naming a workflow this worker does not register are refused at start-up.
    trigger = TriggerActivities(options.triggers_file, children, workflow_types(workflows))
    # Files attached on a platform are read by that platform's fetchers (e.g. web chat uploads).
    sources = options.sources or SourceSettings()
    sources = replace(sources, extra={**registry.fetchers(), **sources.extra})
    turn = TurnActivities(trigger, replies, platform)
    streaming = StreamingTurnActivities(trigger, replies, registry)
    model = ModelTurnActivities(options.llm)
    streaming_model = StreamingModelTurnActivities(options.llm, registry)
    progress = ChildProgressActivities(client, registry)
    stopped_turn = StoppedTurnActivities(registry)
    # The children's activities (e.g. documents) see the sources with the platforms' fetchers.
    resources = WorkerResources(client=client, options=replace(options, sources=sources))
    child_activities = [act for spec in children if spec.activities is not None for act in spec.activities(resources)]
    # A child's activities are bound methods: their object may own a model client too.
    owners = [getattr(act, "__self__", None) for act in child_activities]
    return ThreadworkWorker(
        client,
        closers=_model_clients(replies, model, streaming_model, *owners),
        task_queue=options.task_queue,
        workflows=workflows,
        activities=[
            replies.generate_reply,
            platform.post_reply,
            platform.update_message,
            platform.create_channel,
            platform.pin_message,
            platform.set_topic,
            platform.resolve_members,
            platform.send_private,
            trigger.match_trigger,
            turn.take_turn,
            streaming.stream_turn,
            model.model_turn,
            streaming_model.stream_model_turn,
            progress.show_child_progress,
            stopped_turn.finish_stopped_turn,
            *child_activities,
        ],
        max_cached_workflows=options.max_cached_workflows,
        deployment_config=deployment_config(options.deployment),
        workflow_runner=workflow_runner(),
        activity_executor=ThreadPoolExecutor(4),
        # Stop reaches a streamed turn with its next heartbeat's answer: send them often enough.
        max_heartbeat_throttle_interval=HEARTBEAT_THROTTLE,
    )
