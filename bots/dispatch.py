"""Hands inbound messages and clicks to Temporal: update-with-start on the session.

The update id is the platform's message id, so platform retries are answered by
Temporal's own dedupe (and, across continue-as-new, by the session's validator).
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from temporalio import common
from temporalio.client import (
    Client,
    WithStartWorkflowOperation,
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
    WorkflowUpdateStage,
)
from temporalio.service import RPCError, RPCStatusCode

from bots.metrics import ACTIONS, MESSAGES
from workflows.chat_session import ChatSessionWorkflow
from workflows.contracts import (
    ActionEvent,
    ActionResult,
    Actor,
    ChatMessage,
    ConversationKey,
    SessionConfig,
    SessionInput,
    SessionState,
    TriggerRequest,
)
from workflows.failures import failure_message, failure_type
from workflows.handlers import ActionTarget, signal_name
from workflows.incident.activities import find_incident
from workflows.platform_port import Delivery
from workflows.stream_contracts import StopRequest, StopResult

log = logging.getLogger(__name__)

#: A session that is ending refuses messages; the next try starts a fresh run.
ENDED_RETRIES = 8
ACCEPT_TIMEOUT = timedelta(seconds=15)
#: Temporal refusing the request itself (an id too long, a payload over the blob limit...):
#: no retry can help. Anything else (UNAVAILABLE, DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED...) is an outage.
PERMANENT_REFUSALS = frozenset({RPCStatusCode.INVALID_ARGUMENT, RPCStatusCode.OUT_OF_RANGE})


def _consume_start_failure(start: WithStartWorkflowOperation) -> None:
    """The SDK also sets a failed call's error on the start operation's handle future; nobody
    awaits that here, so mark it seen (else asyncio logs "Future exception was never retrieved"
    with a traceback for every timeout, as if it were a bug)."""
    future = getattr(start, "_workflow_handle", None)
    if isinstance(future, asyncio.Future) and future.done() and not future.cancelled():
        future.exception()


class Dispatcher:
    def __init__(self, client: Client, task_queue: str, session_config: SessionConfig) -> None:
        self.client = client
        self.task_queue = task_queue
        self.session_config = session_config

    async def deliver(self, msg: ChatMessage) -> Delivery:
        result = await self.deliver_once(msg)
        MESSAGES.labels(msg.key.platform, result.status).inc()
        return result

    async def deliver_once(self, msg: ChatMessage, timeout: timedelta = ACCEPT_TIMEOUT) -> Delivery:
        """One delivery attempt. UNAVAILABLE means "try again later" (the inbound queue does);
        INVALID means never (Temporal refused the message itself)."""
        session_id = msg.key.session_id()
        for attempt in range(ENDED_RETRIES):
            start = WithStartWorkflowOperation(
                ChatSessionWorkflow.run,
                SessionInput(key=msg.key, config=self.session_config),
                id=session_id,
                id_conflict_policy=common.WorkflowIDConflictPolicy.USE_EXISTING,
                task_queue=self.task_queue,
            )
            try:
                await self.client.start_update_with_start_workflow(
                    ChatSessionWorkflow.receive_message,
                    msg,
                    id=msg.message_id,
                    start_workflow_operation=start,
                    wait_for_stage=WorkflowUpdateStage.ACCEPTED,
                    rpc_timeout=timeout,
                )
                return Delivery(Delivery.ACCEPTED, session_id)
            except WorkflowUpdateFailedError as err:
                kind, text = failure_type(err), failure_message(err)
                if kind == "DuplicateMessage":
                    return Delivery(Delivery.DUPLICATE, session_id, text)
                if kind == "SessionEnded":
                    await asyncio.sleep(0.1 * (attempt + 1))
                    continue
                return Delivery(Delivery.INVALID, session_id, text)
            except WorkflowUpdateRPCTimeoutOrCancelledError:
                log.warning("session %s did not accept message %s in time", session_id, msg.message_id)
                return Delivery(Delivery.UNAVAILABLE, session_id, "the session did not answer in time")
            except RPCError as err:
                if err.status == RPCStatusCode.NOT_FOUND and attempt + 1 < ENDED_RETRIES:
                    # The run closed between our update and its acceptance: go again.
                    await asyncio.sleep(0.1 * (attempt + 1))
                    continue
                if err.status in PERMANENT_REFUSALS:
                    log.warning("Temporal refused message %s for good: %s", msg.message_id, err)
                    return Delivery(Delivery.INVALID, session_id, err.message or str(err))
                log.warning("Temporal could not take message %s now: %s", msg.message_id, err)
                return Delivery(Delivery.UNAVAILABLE, session_id, str(err))
            except RuntimeError as err:
                # A lazily connected client (the gateway's) raises this when Temporal is unreachable.
                log.warning("Temporal unreachable for message %s: %s", msg.message_id, err)
                return Delivery(Delivery.UNAVAILABLE, session_id, str(err))
            finally:
                _consume_start_failure(start)
        return Delivery(Delivery.UNAVAILABLE, session_id, "the session kept ending; try again")

    async def act(self, workflow_id: str, event: ActionEvent) -> ActionResult:
        """Send a click to the workflow that owns the button; refusals come back as ephemeral text."""
        ACTIONS.labels(event.key.platform).inc()
        handle = self.client.get_workflow_handle(workflow_id)
        try:
            return await handle.execute_update(
                ActionTarget.handle_action,
                event,
                id=event.event_id or None,
                rpc_timeout=ACCEPT_TIMEOUT,
            )
        except WorkflowUpdateFailedError as err:
            return ActionResult(ephemeral=failure_message(err))
        except RPCError as err:
            if err.status == RPCStatusCode.NOT_FOUND:
                return ActionResult(ephemeral="That workflow has finished; this button no longer does anything.")
            log.warning("action %s for %s failed: %s", event.action_id, workflow_id, err)
            return ActionResult(ephemeral="I can't process this right now; please try again in a minute.")
        except WorkflowUpdateRPCTimeoutOrCancelledError:
            return ActionResult(ephemeral="That took too long; please try again.")

    async def trigger(self, key: ConversationKey, request: TriggerRequest) -> Delivery:
        """Signal-with-start ``trigger_workflow`` on the session of ``key``."""
        session_id = key.session_id()
        try:
            await self.client.start_workflow(
                ChatSessionWorkflow.run,
                SessionInput(key=key, config=self.session_config),
                id=session_id,
                task_queue=self.task_queue,
                start_signal=signal_name(ChatSessionWorkflow.trigger_workflow),
                start_signal_args=[request],
            )
        except (RPCError, RuntimeError) as err:  # RuntimeError: a lazy client that cannot connect
            log.warning("could not trigger %s on %s: %s", request.workflow_type, session_id, err)
            return Delivery(Delivery.UNAVAILABLE, session_id, str(err))
        return Delivery(Delivery.ACCEPTED, session_id)

    async def has_session(self, session_id: str) -> bool:
        try:
            await self.client.get_workflow_handle(session_id).describe()
        except (RPCError, RuntimeError) as err:
            if not isinstance(err, RPCError) or err.status != RPCStatusCode.NOT_FOUND:
                log.warning("could not look up session %s: %s", session_id, err)
            return False
        return True

    async def session_state(self, session_id: str) -> SessionState | None:
        try:
            return await self.client.get_workflow_handle(session_id).query(ChatSessionWorkflow.get_session_state)
        except RPCError as err:
            if err.status in (RPCStatusCode.NOT_FOUND, RPCStatusCode.INVALID_ARGUMENT):
                return None
            raise

    async def incident_action(self, key: ConversationKey, event: ActionEvent) -> ActionResult | None:
        """Send ``event`` to the running incident whose conversation is ``key``'s channel.

        For platform events that name a channel, not a button: a :pushpin: reaction
        (``incident.note`` with the message text), ``/incident note ...``. None when no
        incident runs there.
        """
        try:
            workflow_id = await find_incident(self.client, key)
        except RPCError as err:
            log.warning("incident lookup for %s failed: %s", key, err)
            return ActionResult(ephemeral="I can't reach the incident right now; please try again in a minute.")
        if workflow_id is None:
            return None
        return await self.act(workflow_id, event)

    async def stop_turn(self, session_id: str, actor: Actor, request_id: str = "") -> StopResult:
        """A Stop control pressed in ``session_id``: the ``stop_turn`` update cancels the running turn."""
        handle = self.client.get_workflow_handle(session_id)
        try:
            return await handle.execute_update(
                ChatSessionWorkflow.stop_turn,
                StopRequest(actor=actor, request_id=request_id),
                id=request_id or None,
                rpc_timeout=ACCEPT_TIMEOUT,
            )
        except WorkflowUpdateFailedError as err:
            return StopResult(stopped=False, detail=failure_message(err))
        except RPCError as err:
            if err.status == RPCStatusCode.NOT_FOUND:
                return StopResult(stopped=False, detail="This conversation has no running session.")
            log.warning("stop in %s failed: %s", session_id, err)
            return StopResult(stopped=False, detail="I can't reach the session right now; please try again.")
        except (WorkflowUpdateRPCTimeoutOrCancelledError, RuntimeError) as err:
            log.warning("stop in %s failed: %s", session_id, err)
            return StopResult(stopped=False, detail="I can't reach the session right now; please try again.")
