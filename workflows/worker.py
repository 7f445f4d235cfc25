"""Builds the threadwork Worker: every workflow and activity on one task queue."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from temporalio.client import Client
from temporalio.worker import Worker
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from adapters.base import PlatformRegistry
from workflows import TASK_QUEUE
from workflows.activities.documents import DocumentActivities
from workflows.activities.fetchers import SourceSettings
from workflows.activities.incidents import IncidentActivities
from workflows.activities.platform import PlatformActivities
from workflows.activities.replies import LLMConfig, ReplyActivities
from workflows.activities.triggering import TriggerActivities
from workflows.activities.turn import TurnActivities
from workflows.chat_session import ChatSessionWorkflow
from workflows.documents import DocumentProcessingWorkflow
from workflows.incident import IncidentWorkflow
from workflows.incident_links import IncidentLinkWorkflow
from workflows.notice import EventNoticeWorkflow
from workflows.registry import load_registry

WORKFLOWS = [ChatSessionWorkflow, IncidentWorkflow, IncidentLinkWorkflow, DocumentProcessingWorkflow, EventNoticeWorkflow]


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


def build_worker(client: Client, registry: PlatformRegistry, options: WorkerOptions | None = None) -> Worker:
    options = options or WorkerOptions()
    replies = ReplyActivities(options.llm)
    platform = PlatformActivities(registry)
    custom = load_registry(options.custom_workflows_file)
    custom.register_children()
    trigger = TriggerActivities(options.triggers_file, custom.trigger_rules())
    documents = DocumentActivities(options.document_max_bytes, options.sources, options.llm)
    turn = TurnActivities(trigger, replies, platform)
    incidents = IncidentActivities(client)
    return Worker(
        client,
        task_queue=options.task_queue,
        workflows=WORKFLOWS + [cls for cls in custom.classes() if cls not in WORKFLOWS],
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
            documents.fetch_and_extract,
            documents.summarize,
            incidents.find_incident_for,
            incidents.send_incident_action,
            *custom.activities(),
        ],
        max_cached_workflows=options.max_cached_workflows,
        # Keep the sandbox's determinism checks but import modules once for all runs
        # instead of re-importing them per cached workflow (bench/: 146 -> 93 KB per session).
        workflow_runner=SandboxedWorkflowRunner(restrictions=SandboxRestrictions.default.with_passthrough_all_modules()),
        activity_executor=ThreadPoolExecutor(4),
    )
