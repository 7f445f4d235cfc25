"""ChildProgress: a child workflow's setup as work steps of ONE message in the thread that started it.

Instead of a post per milestone ("channel created", "card posted"), a child opens a progress
message at its start, marks steps as it goes, and ends the message with its final reply
(docs/assistant.md, "A child's progress"). The steps live in the child's state and are
answered to a query; the ``show_child_progress`` activity follows it and renders the changes
into the platform's ReplyStream, so no step enters history. A platform without a stream gets
the child's messages as before (``finish`` answers False and the caller posts). Any child can
use it (workflows/childspec.py); the incident does.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from workflows.activities.child_progress import (
        PROGRESS_QUERY,
        ChildProgressActivities,
        ProgressStep,
        ProgressView,
        ShowProgressRequest,
        ShowProgressResult,
    )
    from workflows.contracts import Actor, ConversationKey, MessageRef, Reply
    from workflows.delivery import DELIVERY_FAILURES, Poster
    from workflows.stream_contracts import StepState

#: Children recorded before progress messages replay with their separate posts.
CHILD_PROGRESS_PATCH = "child-progress-steps-v1"
#: A killed worker's progress message is taken over by another worker this long after its last heartbeat.
PROGRESS_HEARTBEAT_TIMEOUT = timedelta(seconds=10)
PROGRESS_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    maximum_interval=timedelta(seconds=10),
    maximum_attempts=3,
    non_retryable_error_types=["PlatformError"],
)


class ChildProgress:
    """One progress message of a child; inert (``active`` False) until ``start`` and in recorded histories."""

    def __init__(self, poster: Poster, origin: ConversationKey, context: dict[str, Any] | None) -> None:
        self._poster = poster
        self._origin = origin
        self._context = context
        self._view = ProgressView()
        self._handle: Any = None
        self._key = ""
        self._done = False
        #: The finished message (None: not finished, or posted the old way).
        self.ref: MessageRef | None = None

    @property
    def active(self) -> bool:
        """Steps are being shown (the message is not finished yet)."""
        return self._handle is not None and not self._done

    def start(self, status: str, recipient: Actor | None) -> None:
        """Open the message (``status`` until the first step); ``recipient``: whom it answers (Slack needs one)."""
        if not workflow.patched(CHILD_PROGRESS_PATCH):
            return
        workflow.set_query_handler(PROGRESS_QUERY, self._query)
        self._key = self._poster.next_key()
        info = workflow.info()
        self._handle = workflow.start_activity_method(
            ChildProgressActivities.show_child_progress,
            ShowProgressRequest(
                workflow_id=info.workflow_id,
                run_id=info.run_id,
                key=self._origin,
                idempotency_key=self._key,
                recipient=recipient,
                reply_context=self._context,
                status=status,
            ),
            start_to_close_timeout=timedelta(minutes=15),
            heartbeat_timeout=PROGRESS_HEARTBEAT_TIMEOUT,
            retry_policy=PROGRESS_RETRY,
        )

    def step(self, step_id: str, title: str, state: StepState) -> None:
        """Add or change a step (a no-op when no progress message is shown)."""
        if not self.active:
            return
        for step in self._view.steps:
            if step.id == step_id:
                step.title, step.state = title, state
                return
        self._view.steps.append(ProgressStep(id=step_id, title=title, state=state))

    async def finish(self, reply: Reply) -> bool:
        """End the message with ``reply``. False: no progress message is shown here, the caller posts
        ``reply`` itself. Raises one of DELIVERY_FAILURES when the platform refused it for good."""
        if not self.active:
            return False
        self._view.final = reply
        try:
            result: ShowProgressResult | None = await self._handle
        except DELIVERY_FAILURES as err:
            workflow.logger.warning("the progress message failed; posting its end instead: %s", err)
            result = None
        self._done = True
        if result is not None and not result.streams:
            return False
        if result is not None and result.posted is not None:
            self.ref = result.posted
            return True
        # Refused or failed: the final reply under the message's own key (still one message), and an
        # update where part of it may show already.
        self.ref = await self._poster.post(self._origin, reply, self._context, idempotency_key=self._key)
        if result is None or result.partly_shown:
            await self._poster.update(self.ref, reply)
        return True

    def _query(self) -> ProgressView:
        return self._view
