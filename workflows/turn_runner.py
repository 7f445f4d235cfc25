"""Runs a session's streamed turn activity and stops it on request (issue 13).

The turn is a normal activity that heartbeats; ``stop`` cancels it through Temporal, the
activity finishes its message with the text so far and returns that text, and the
session records who stopped it. Kept apart from chat_session.py so the session stays
about conversation, not activity plumbing.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any, TypeVar

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, CancelledError

with workflow.unsafe.imports_passed_through():
    from workflows.activities.stopped_turn import FinishStoppedRequest, StoppedTurnActivities
    from workflows.activities.streaming_model_turn import (
        StreamingModelTurnActivities,
        StreamModelTurnRequest,
        StreamModelTurnResult,
    )
    from workflows.activities.streaming_turn import StreamingTurnActivities, StreamTurnRequest, StreamTurnResult
    from workflows.contracts import Reply
    from workflows.delivery import DELIVERY_FAILURES, PLATFORM_RETRY
    from workflows.stream_contracts import Redelivery, StopRequest, StopResult, StreamedTurn

#: Sessions recorded before streamed turns replay with the one local take_turn activity.
STREAMED_TURN_PATCH = "streamed-turn-v1"
#: A turn stopped between two attempts gets its message finished with the stopped note (finish_stopped_turn).
STOPPED_BETWEEN_ATTEMPTS_PATCH = "stopped-between-attempts-v1"
#: A SIGKILLed worker's turn is retried on another worker this long after its last heartbeat. Long
#: enough that a worker starved for a few seconds on a busy host is not taken for dead.
TURN_HEARTBEAT_TIMEOUT = timedelta(seconds=10)
TURN_ATTEMPTS = 3
#: What a Stop between two model calls of the tool loop answers.
LOOP_STOPPED = "Stopped: the running tool ends and the model is not asked again."
T = TypeVar("T")
R = TypeVar("R")
TURN_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(seconds=30),
    maximum_attempts=TURN_ATTEMPTS,
    non_retryable_error_types=["PlatformError"],
)


class TurnRunner:
    """At most one streamed turn (or streamed model call of the tool loop) runs per session
    (its handler holds the session's lock)."""

    def __init__(self) -> None:
        self._handle: Any = None
        #: Who stopped the last turn (None: it ran to its end).
        self.stopped_by: StopRequest | None = None
        #: The last turn was stopped between two attempts (its text so far is on the platform only).
        self.stopped_between_attempts = False
        #: How the session delivers the last turn's reply when the platform did not take the stream.
        self.redelivery: Redelivery | None = None
        #: The platform refused the last turn's reply for good (its reason).
        self.refusal: str | None = None
        #: A tool loop runs (between its model calls too): Stop ends it before its next model call.
        self._loop_stoppable = False

    def begin_loop(self, stoppable: bool) -> None:
        """A tool loop starts; ``stoppable``: Stop between its model calls ends it (TOOL_LOOP_STOP_PATCH)."""
        self.stopped_by = None
        self._loop_stoppable = stoppable

    def end_loop(self) -> None:
        self._loop_stoppable = False

    async def run(self, req: StreamTurnRequest) -> StreamTurnResult | None:
        """The turn's outcome; None when it failed after its retries (the caller says sorry)."""
        self.stopped_by = None
        self.stopped_between_attempts = False
        self.refusal = None
        # Failed after its retries: part of it may show under the turn's key, so the apology updates it.
        self.redelivery = Redelivery(key=req.idempotency_key, partly_shown=True)
        stopped = StreamTurnResult(turn=StreamedTurn(reply=Reply(text=""), stopped=True))
        finish = FinishStoppedRequest(
            key=req.key, idempotency_key=req.idempotency_key, recipient=req.reply.actor, reply_context=req.reply_context
        )
        result = await self._run(StreamingTurnActivities.stream_turn, req, stopped, finish)
        if result is not None and result.turn is not None:
            turn = result.turn
            self.refusal = turn.refusal
            self.redelivery = Redelivery(key=req.idempotency_key, partly_shown=turn.partly_shown, since=turn.refused_at)
        return result

    async def run_model(self, req: StreamModelTurnRequest, timeout: timedelta) -> StreamModelTurnResult | None:
        """One streamed model call of the tool loop; None when it failed after its retries (the loop says sorry)."""
        if not self._loop_stoppable:  # a stoppable loop keeps a Stop that came between two calls
            self.stopped_by = None
        self.stopped_between_attempts = False
        self.refusal = None
        self.redelivery = Redelivery(key=req.idempotency_key, partly_shown=True)
        stopped = StreamModelTurnResult(turn=StreamedTurn(reply=Reply(text=""), stopped=True))
        finish = FinishStoppedRequest(
            key=req.key, idempotency_key=req.idempotency_key, recipient=req.actor, reply_context=req.reply_context
        )
        result = await self._run(StreamingModelTurnActivities.stream_model_turn, req, stopped, finish, timeout)
        if result is not None and result.turn is not None:
            turn = result.turn
            self.refusal = turn.refusal
            self.redelivery = Redelivery(key=req.idempotency_key, partly_shown=turn.partly_shown, since=turn.refused_at)
        return result

    async def _run(
        self,
        activity: Callable[[Any, T], Awaitable[R]],
        req: T,
        stopped: R,
        finish: FinishStoppedRequest,
        timeout: timedelta = timedelta(minutes=5),
    ) -> R | None:
        self._handle = workflow.start_activity_method(
            activity,
            req,
            start_to_close_timeout=timeout,
            heartbeat_timeout=TURN_HEARTBEAT_TIMEOUT,
            retry_policy=TURN_RETRY,
            cancellation_type=workflow.ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
        )
        try:
            return await self._handle
        except asyncio.CancelledError:
            # Stop arrived in the same task as the activity's completion: its message is
            # final, its text unknown here.
            return stopped
        except DELIVERY_FAILURES as err:
            if isinstance(err, ActivityError) and isinstance(err.cause, CancelledError):
                # Stopped between two attempts (a worker died): nothing runs that would finish the message.
                self.stopped_between_attempts = True
                await self._finish_stopped(finish)
                return stopped
            workflow.logger.warning("streamed turn failed after retries: %s", err)
            return None
        finally:
            self._handle = None

    async def _finish_stopped(self, req: FinishStoppedRequest) -> None:
        """The message keeps the text it shows and gets the stopped note (an activity under the turn's key)."""
        if not workflow.patched(STOPPED_BETWEEN_ATTEMPTS_PATCH):
            return
        try:
            await workflow.execute_activity_method(
                StoppedTurnActivities.finish_stopped_turn,
                req,
                start_to_close_timeout=timedelta(seconds=30),
                schedule_to_close_timeout=timedelta(minutes=2),
                retry_policy=PLATFORM_RETRY,
            )
        except DELIVERY_FAILURES as err:
            workflow.logger.warning("could not mark the stopped reply as stopped: %s", err)

    def stop(self, req: StopRequest) -> StopResult:
        handle = self._handle
        if handle is not None and not handle.done():
            if self.stopped_by is None:
                self.stopped_by = req
                handle.cancel()
            return StopResult(stopped=True)
        if self._loop_stoppable:
            # A tool runs between two model calls: it ends, and the model is not asked again.
            if self.stopped_by is None:
                self.stopped_by = req
            return StopResult(stopped=True, detail=LOOP_STOPPED)
        return StopResult(stopped=False, detail="Nothing is running in this conversation.")

    @property
    def stop_requested(self) -> bool:
        """Stop was pressed during the current tool loop (or streamed turn)."""
        return self.stopped_by is not None
