"""A child workflow's setup shown as work steps of one message in the thread that started it.

The child keeps its steps in its own state (small: an id, a title and a state each) and
answers them to the ``PROGRESS_QUERY`` query; this activity follows that query and renders
each change into the platform's ReplyStream (Slack ``task_update`` chunks, Teams informative
updates, the web chat's step list), then finishes the message with the child's final reply.
The steps travel from here to the platform, never through workflow history: the activity
returns only the message's MessageRef. The stream's idempotency key comes from the child
(one per progress message), so a retried attempt (a worker died) rewrites its own message.
"""

from __future__ import annotations

import asyncio
import logging

from pydantic import BaseModel, Field
from temporalio import activity
from temporalio.client import Client, WorkflowQueryFailedError
from temporalio.service import RPCError

from workflows.activities.guarded_stream import GuardedStream
from workflows.activities.platform import _as_temporal
from workflows.activities.streaming_turn import _heartbeat_while_running, open_reply_stream
from workflows.contracts import Actor, ConversationKey, MessageRef, Reply
from workflows.platform_port import PlatformError, PlatformRegistry, StreamingPlatform
from workflows.stream_contracts import StepState

log = logging.getLogger(__name__)

#: The query every child with a progress message answers (workflows/child_progress.py registers it).
PROGRESS_QUERY = "threadwork_child_progress"
#: Seconds between two looks at the child's steps.
POLL_SECONDS = 0.2


class ProgressStep(BaseModel):
    id: str
    title: str
    state: StepState


class ProgressView(BaseModel):
    """What the child answers to PROGRESS_QUERY: its steps so far and, once set up, the message's final reply."""

    steps: list[ProgressStep] = Field(default_factory=list)
    final: Reply | None = None


class ShowProgressRequest(BaseModel):
    #: The child whose progress query this follows (its run: a later run never answers for this one).
    workflow_id: str
    run_id: str
    key: ConversationKey
    #: One per progress message, from the child (Poster.next_key): the same on every attempt.
    idempotency_key: str
    recipient: Actor | None = None
    reply_context: dict[str, object] | None = None
    #: The status line until the first step ("Setting up the incident…").
    status: str = ""


class ShowProgressResult(BaseModel):
    #: False: the platform has no stream; the child posts its messages as it always did.
    streams: bool = True
    #: The finished message; None: the platform refused the stream, the child posts the final reply under the key.
    posted: MessageRef | None = None
    #: With ``posted`` None: part of the message may show under the key, so the child's post is followed by an update.
    partly_shown: bool = False


class ChildProgressActivities:
    def __init__(self, client: Client, registry: PlatformRegistry) -> None:
        self._client = client
        self._registry = registry

    @activity.defn
    async def show_child_progress(self, req: ShowProgressRequest) -> ShowProgressResult:
        platform = self._registry.get(req.key.platform)
        if not isinstance(platform, StreamingPlatform):
            return ShowProgressResult(streams=False)
        ticker = asyncio.create_task(_heartbeat_while_running())
        try:
            return await self._follow(platform, req)
        except PlatformError as err:
            raise _as_temporal(err) from None
        finally:
            ticker.cancel()

    async def _follow(self, platform: StreamingPlatform, req: ShowProgressRequest) -> ShowProgressResult:
        try:
            stream = GuardedStream(
                await open_reply_stream(platform, req.key, req.idempotency_key, req.recipient, req.reply_context)
            )
        except PlatformError as err:
            log.warning("could not open the progress message of %s; it is posted at the end: %s", req.workflow_id, err)
            stream = GuardedStream(None, err)
        if req.status:
            await stream.status(req.status)
        shown: dict[str, tuple[str, str]] = {}
        while True:
            view = await self._view(req)
            if view is not None:
                for step in view.steps:
                    if shown.get(step.id) != (step.title, step.state):
                        await stream.step(step.id, step.title, step.state)
                        shown[step.id] = (step.title, step.state)
                if view.final is not None:
                    posted = await stream.finish(view.final)
                    return ShowProgressResult(posted=posted, partly_shown=stream.touched)
            await asyncio.sleep(POLL_SECONDS)

    async def _view(self, req: ShowProgressRequest) -> ProgressView | None:
        """The child's steps now; None when it could not answer this time (asked again shortly)."""
        handle = self._client.get_workflow_handle(req.workflow_id, run_id=req.run_id)
        try:
            return await handle.query(PROGRESS_QUERY, result_type=ProgressView)
        except (RPCError, WorkflowQueryFailedError) as err:
            log.warning("progress of %s not readable, asking again: %s", req.workflow_id, err)
            return None
