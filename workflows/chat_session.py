"""ChatSessionWorkflow: one durable workflow per conversation, the same for every platform."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any, Literal

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ApplicationError, WorkflowAlreadyStartedError

with workflow.unsafe.imports_passed_through():
    from workflows.activities.models import PostRequest, ReplyRequest
    from workflows.activities.replies import ReplyActivities
    from workflows.activities.responder import (
        builtin_reply,
        command_of,
        fallback_reply,
        goodbye_reply,
        guest_limit_reply,
    )
    from workflows.activities.streaming_turn import StreamTurnRequest
    from workflows.activities.turn import TurnActivities, TurnRequest, TurnResult
    from workflows.children import ChildCatalog, load_hooks_class
    from workflows.childspec import SessionHooks
    from workflows.contracts import (
        MAX_MESSAGE_CHARS,
        UNDELIVERED_KEPT,
        ActionEvent,
        ActionResult,
        Actor,
        ChatMessage,
        ChildEntry,
        ChildStatus,
        ChildWorkflowInput,
        HistoryEntry,
        Participant,
        Reply,
        SessionInput,
        SessionState,
        SessionSummary,
        TriggeredWorkflow,
        TriggerRequest,
        WorkflowStart,
        plain_links,
    )
    from workflows.delivery import DELIVERY_FAILURES, Poster
    from workflows.feedback import FEEDBACK_ACTION, record_feedback
    from workflows.shared_config import shared
    from workflows.stream_contracts import STOP_ACTION, Redelivery, StopRequest, StopResult
    from workflows.tools.loop import SessionTools
    from workflows.tools.runner import SessionAccess
    from workflows.turn_runner import STREAMED_TURN_PATCH, TURN_ATTEMPTS, TurnRunner

REPLY_RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_attempts=3)
#: The session says "I've started …" before the child starts, so the child's first post cannot
#: overtake it. Sessions recorded before it replay in the old order (start, then say).
STARTED_FIRST_PATCH = "child-started-reply-first-v1"
#: The built-in responder's replies are posted by the turn's local activity (a Slack/Teams post tried
#: once there, then durably), not streamed. Sessions recorded before it replay their streamed turns.
FAST_TURN_PATCH = "builtin-fast-turn-v1"
#: One idle timer per quiet period, re-armed for the rest when it fires after activity: a turn adds no
#: TIMER_CANCELED/TIMER_STARTED pair to history (two fewer events and server tasks per message).
IDLE_TIMER_PATCH = "one-idle-timer-v1"


# Pinned on versioned workers (workflows/worker.py deployment_config: the class cannot say so,
# unversioned workers would send the behavior and the server refuses it): a run stays on the
# build that started it, and moves to the current build at its next continue-as-new.
@workflow.defn
class ChatSessionWorkflow:
    @workflow.init
    def __init__(self, inp: SessionInput) -> None:
        # Update handlers may run before run(): all state is set up here.
        self.config = inp.config = shared(inp.config)  # one object per configuration; run()'s input too
        if inp.state is None:
            self.state = SessionState(
                session_id=inp.key.session_id(),
                key=inp.key,
                platform=inp.key.platform,
                created_at=workflow.now(),
            )
        else:
            self.state = inp.state
        self._recent = set(self.state.recent_message_ids)
        self._lock = asyncio.Lock()
        self._poster = Poster(self.config.platform_retry_window_seconds, self.config.platforms)
        # The children this session may start travel in its input (never the worker's registry).
        self.children = ChildCatalog(self.config)
        self._hooks: dict[str, SessionHooks] = {
            e.workflow_type: load_hooks_class(e.hooks)(self._poster, e) for e in self.children.entries if e.hooks
        }
        self._child_handles: dict[str, Any] = {}  # started this run: a tool may wait for a result
        self._turns = TurnRunner()
        # The model's tools (workflows/tools/): only with a language model (config.tools).
        self._tools = SessionTools(
            self.config.tools,
            SessionAccess(
                state=self.state,
                poster=self._poster,
                lock=self._lock,
                child_hooks=self._hooks,
                start_child=self._start_child,
                child_handles=self._child_handles,
                post=self._post,
                summary=self._summary,
                append=self._append,
            ),
            self._turns,
        )
        self._turns_this_run = 0
        self._end_reason: str | None = None
        self._activity_seq = 0
        self._last_activity = workflow.now()

    # ---- main loop -----------------------------------------------------------

    @workflow.run
    async def run(self, inp: SessionInput) -> SessionState:
        # Runs recorded before the patch re-arm their idle timer at every message (replay needs that).
        one_timer = workflow.patched(IDLE_TIMER_PATCH)
        while True:
            seq = self._activity_seq
            idle_left = self._idle_left()
            try:
                await workflow.wait_condition(
                    lambda: (
                        self._end_reason is not None
                        or self._should_continue_as_new()
                        or self._new_build_is_current()
                        or (not one_timer and self._activity_seq != seq)  # noqa: B023 - awaited within this iteration
                    ),
                    timeout=timedelta(seconds=max(idle_left, 0.001)),
                )
            except TimeoutError:
                if self._lock.locked() or not workflow.all_handlers_finished():
                    continue
                if one_timer and self._idle_left() > 0.001:
                    continue  # someone spoke since the timer started: wait out the rest from their message
                self._end_reason = "idle"
            if self._end_reason is not None:
                break
            if self._should_continue_as_new() or self._new_build_is_current():
                await workflow.wait_condition(
                    lambda: workflow.all_handlers_finished() and not self._lock.locked() and self._tools.settled()
                )
                if self._end_reason is None:
                    self._continue_as_new()
        # Ending: refuse new messages (the gateway retries them into a fresh run), finish
        # what is in flight, then say goodbye once.
        self.state.is_active = False
        self._tools.cancel_pending("the conversation ended")
        await workflow.wait_condition(
            lambda: workflow.all_handlers_finished() and not self._lock.locked() and self._tools.settled()
        )
        await self._tools.close_cancelled()
        await self._post(goodbye_reply(self._end_reason, self.config.idle_timeout_seconds))
        return self.state

    def _continue_as_new(self) -> None:
        self.state.recent_message_ids = self.state.recent_message_ids[-self.config.dedupe_window :]
        self.state.runs += 1
        # Pinned runs inherit their build across continue-as-new unless told otherwise: when a
        # newer build is current, the next run starts there (and pins itself to it).
        upgrade = workflow.ContinueAsNewVersioningBehavior.AUTO_UPGRADE if self._new_build_is_current() else None
        workflow.continue_as_new(
            SessionInput(key=self.state.key, config=self.config, state=self.state),
            initial_versioning_behavior=upgrade,
        )

    def _new_build_is_current(self) -> bool:
        """Worker Versioning: another build became current since this run started (refreshed
        with each workflow task, so an idle session notices it at its next message or signal;
        unversioned workers and recorded histories always say False)."""
        return workflow.info().is_target_worker_deployment_version_changed()

    def _should_continue_as_new(self) -> bool:
        return workflow.info().is_continue_as_new_suggested() or self._turns_this_run >= self.config.max_turns_per_run

    def _idle_left(self) -> float:
        """Seconds of silence left before the session ends itself."""
        return self.config.idle_timeout_seconds - (workflow.now() - self._last_activity).total_seconds()

    def _touch(self) -> None:
        self._activity_seq += 1
        self._last_activity = workflow.now()

    # ---- messages ------------------------------------------------------------

    def spec_for(self, name: str) -> ChildEntry | None:
        """The child this session may start under a workflow type or short name (from its own input)."""
        return self.children.spec_for(name)

    @workflow.update
    async def receive_message(self, msg: ChatMessage) -> None:
        """Answered once the turn is done; what it said reaches the user through the platform."""
        self._remember(msg.message_id)
        self._touch()
        async with self._lock:
            # Not try/finally: when a worker drops a suspended handler, closing it must not
            # call into the workflow (GeneratorExit is not an Exception).
            try:
                await self._handle_message(msg)
            except Exception:
                self._touch()
                raise
            self._touch()

    @receive_message.validator
    def validate_message(self, msg: ChatMessage) -> None:
        if not self.state.is_active or self._end_reason is not None:
            raise ApplicationError("this session has ended", type="SessionEnded")
        if msg.key.session_id() != self.state.session_id:
            raise ApplicationError(
                f"message for {msg.key.session_id()} sent to session {self.state.session_id}",
                type="InvalidMessage",
            )
        if not msg.text.strip() and not msg.files:
            raise ApplicationError("message text is empty", type="InvalidMessage")
        if len(msg.text) > MAX_MESSAGE_CHARS:
            raise ApplicationError(
                f"message text is {len(msg.text)} characters; the limit is {MAX_MESSAGE_CHARS}",
                type="InvalidMessage",
            )
        if msg.message_id in self._recent:
            # Temporal dedupes update ids within one run; this catches repeats across
            # continue-as-new. The gateway treats it as "already handled".
            raise ApplicationError(f"message {msg.message_id} was already handled", type="DuplicateMessage")

    def _remember(self, message_id: str) -> None:
        self._recent.add(message_id)
        self.state.recent_message_ids.append(message_id)
        overflow = len(self.state.recent_message_ids) - 2 * self.config.dedupe_window
        if overflow > 0:
            for old in self.state.recent_message_ids[:overflow]:
                self._recent.discard(old)
            del self.state.recent_message_ids[:overflow]

    async def _handle_message(self, msg: ChatMessage) -> None:
        participant = self._participant(msg.actor)
        if msg.reply_context is not None:
            self.state.reply_context = msg.reply_context
        if msg.actor.is_guest and participant.message_count >= self.config.guest_message_limit:
            reply = guest_limit_reply(self.config.guest_message_limit, self.config.upgrade_hint)
            await self._post(reply)
            return

        participant.message_count += 1
        self.state.message_count += 1
        self.state.last_message_at = workflow.now()
        self._turns_this_run += 1
        self._append("user", msg.actor.name or msg.actor.id, msg.text)

        if command_of(msg.text) == "end":
            self._end_reason = "command"
            return

        for hooks in self._hooks.values():
            handled, answer = await hooks.command(msg, self.state)
            if handled:
                if answer is not None:
                    await self._post(answer)
                    # History (and the LLM) get plain text.
                    self._append("assistant", "threadwork", plain_links(answer.text))
                return
        await self._answer(msg)

    async def _answer(self, msg: ChatMessage) -> None:
        """One activity matches triggers and writes the reply: streamed (or, for the web chat before
        STREAMED_TURN_PATCH, posted) by the activity; with the model's tools, the tool loop answers
        (its model calls streamed since TOOL_STREAM_PATCH)."""
        streamed = not self._tools.active and workflow.patched(STREAMED_TURN_PATCH)
        redeliver: Redelivery | None = None
        if streamed and not self.config.stream_builtin and workflow.patched(FAST_TURN_PATCH):
            # The built-in responder's replies (whole at once) take the fast path: one local activity
            # matches, answers and posts; only a model's reply streams.
            turn, redeliver = await self._fast_turn(msg)
            streamed = turn.decision is None and turn.reply is None
            if streamed:
                turn = await self._streamed_turn(msg)
        elif streamed:
            turn = await self._streamed_turn(msg)
        else:
            turn = await self._local_turn(msg)
        if turn.decision is None and turn.reply is None:
            # No rule matched: the model answers, with tools the workflow runs (workflows/tools/);
            # its text answer streamed like a streamed turn's (TOOL_STREAM_PATCH).
            turn.reply = await self._tools.converse(msg, self._summary())
            turn.posted = self._tools.posted
            streamed = self._tools.streamed
        started = None
        said: list[Reply] = []
        if turn.decision is not None:
            # E.g. a second declaration where an incident is already running points to it instead.
            turn.reply = await self._already_running(turn.decision)
            if turn.reply is None:

                async def say_started(child: TriggeredWorkflow) -> None:
                    said.append(await self._generate_reply(msg, child))
                    await self._post(said[0])

                started = await self._start_child(turn.decision, msg.actor, msg.message_id, say_started)
                turn.reply = said[0] if said else await self._generate_reply(msg, started)
        assert turn.reply is not None
        stop = self._turns.stopped_by if streamed and turn.decision is None else None
        refusal = turn.refusal or (self._turns.refusal if streamed and turn.decision is None else None)
        if refusal is not None:
            # The platform refused the reply for good (the channel is gone): recorded, not retried.
            self._record_undelivered(ApplicationError(refusal, type="PlatformError"), turn.reply)
        elif turn.posted is None and not said and stop is None:
            if streamed and turn.decision is None:
                redeliver = self._turns.redelivery
            elif turn.decision is not None:
                redeliver = None  # the announcing reply is a post of its own
            await self._post(turn.reply, redeliver)
        elif stop is not None and self._tools.stopped_between_calls:
            await self._post(turn.reply)  # Stop came while a tool ran: no message of a model call shows it
        between = stop is not None and self._turns.stopped_between_attempts
        if not (between and not turn.reply.text):
            self._append("assistant", "threadwork", turn.reply.text)
        if stop is not None:
            who = stop.actor.name or stop.actor.id
            # Between two attempts (a worker died) the text it showed is on the platform only.
            said_so_far = "between two attempts" if between else f"after {len(turn.reply.text)} characters"
            self._append("system", who, f"{who} stopped the reply {said_so_far}")

    async def _streamed_turn(self, msg: ChatMessage) -> TurnResult:
        """The turn as a streamed normal activity: tokens go to the platform, only the final text comes back.

        When the platform refused to show it, the reply is delivered here (retried for the platform
        retry window) under the turn's own idempotency key, so it is still one message.
        """
        key = self._poster.next_key()
        result = await self._turns.run(
            StreamTurnRequest(
                reply=ReplyRequest(text=msg.text, actor=msg.actor, summary=self._summary()),
                files=msg.files,
                key=self.state.key,
                idempotency_key=key,
                reply_context=self.state.reply_context,
                max_attempts=TURN_ATTEMPTS,
            )
        )
        if result is None:
            return TurnResult(reply=fallback_reply())
        if result.turn is None:
            return TurnResult(decision=result.decision)
        return TurnResult(reply=result.turn.reply, posted=result.turn.posted)

    async def _fast_turn(self, msg: ChatMessage) -> tuple[TurnResult, Redelivery]:
        """One local activity: match the rules, and when the built-in responder answers, post its reply
        (a local write for the web chat; a Slack/Teams post tried once). An empty result: the model
        answers (streamed). The returned Redelivery delivers the reply durably under the same key when
        the post did not go through at once, so it still shows once."""
        key = self._poster.next_key()
        post = PostRequest(
            key=self.state.key, reply=Reply(text=""), idempotency_key=key, reply_context=self.state.reply_context
        )
        local = self._poster.is_local(self.state.key.platform)
        # The built-in responder reads counts and children, never the history: a model's turn gets
        # the history in its own (streamed) request.
        summary = self._summary().model_copy(update={"history": []})
        request = TurnRequest(
            reply=ReplyRequest(text=msg.text, actor=msg.actor, summary=summary),
            files=msg.files,
            stream_model=True,
            post=post if local else None,
            try_post=None if local else post,
        )
        try:
            turn = await workflow.execute_local_activity_method(
                TurnActivities.take_turn,
                request,
                start_to_close_timeout=timedelta(seconds=60),
                retry_policy=REPLY_RETRY,
            )
        except DELIVERY_FAILURES:
            workflow.logger.warning("reply generation failed after retries; sending fallback")
            turn = TurnResult(reply=fallback_reply())
        return turn, Redelivery(key=key, partly_shown=False, since=workflow.now())

    async def _local_turn(self, msg: ChatMessage) -> TurnResult:
        """Before STREAMED_TURN_PATCH, and with the model's tools: one local activity (the web chat's post
        folded in); with tools it leaves the reply to the model (``model_decides``)."""
        post = None
        if self._poster.is_local(self.state.key.platform):
            post = PostRequest(
                key=self.state.key,
                reply=Reply(text=""),
                idempotency_key=self._poster.next_key(),
                reply_context=self.state.reply_context,
            )
        request = ReplyRequest(text=msg.text, actor=msg.actor, summary=self._summary())
        try:
            return await workflow.execute_local_activity_method(
                TurnActivities.take_turn,
                TurnRequest(reply=request, files=msg.files, post=post, model_decides=self._tools.active),
                start_to_close_timeout=timedelta(seconds=60),
                retry_policy=REPLY_RETRY,
            )
        except DELIVERY_FAILURES:
            workflow.logger.warning("reply generation failed after retries; sending fallback")
            return TurnResult(reply=fallback_reply())

    def _participant(self, actor: Actor) -> Participant:
        participant = self.state.participants.get(actor.id)
        if participant is None:
            participant = self.state.participants[actor.id] = Participant(id=actor.id)
        participant.name = actor.name or participant.name
        # A guest who became a member goes on without a limit (and vice versa).
        participant.is_guest = actor.is_guest
        return participant

    def _append(self, role: Literal["user", "assistant", "system"], actor: str, text: str) -> None:
        self.state.history.append(HistoryEntry(role=role, actor=actor, text=text, ts=workflow.now()))
        del self.state.history[: -self.config.history_limit]

    def _summary(self) -> SessionSummary:
        return SessionSummary(
            session_id=self.state.session_id,
            message_count=self.state.message_count,
            participants=len(self.state.participants),
            triggered_workflows=self.state.triggered_workflows,
            history=self.state.history[-20:],
        )

    async def _generate_reply(self, msg: ChatMessage, started: TriggeredWorkflow | None) -> Reply:
        try:
            return await workflow.execute_local_activity_method(
                ReplyActivities.generate_reply,
                ReplyRequest(text=msg.text, actor=msg.actor, summary=self._summary(), started=started),
                start_to_close_timeout=timedelta(seconds=60),
                retry_policy=REPLY_RETRY,
            )
        except DELIVERY_FAILURES:
            workflow.logger.warning("reply generation failed after retries; sending fallback")
            return fallback_reply()

    async def _post(self, reply: Reply, redeliver: Redelivery | None = None) -> None:
        """Post ``reply``; ``redeliver``: under a streamed turn's key, updating what it may have shown."""
        try:
            if redeliver is None:
                await self._poster.post(self.state.key, reply, self.state.reply_context)
                return
            ref = await self._poster.post(
                self.state.key,
                reply,
                self.state.reply_context,
                idempotency_key=redeliver.key,
                late_since=redeliver.since,
            )
            if redeliver.partly_shown:
                await self._poster.update(ref, reply, late_since=redeliver.since)
        except DELIVERY_FAILURES as err:
            # Refused for good (the channel is gone) or still failing when the retry window
            # closed: the session goes on, and the loss is logged, counted and kept in state.
            self._record_undelivered(err, reply)

    def _record_undelivered(self, err: BaseException, reply: Reply) -> None:
        self.state.undelivered.append(self._poster.undelivered(err, self.state.key, reply))
        del self.state.undelivered[:-UNDELIVERED_KEPT]

    # ---- children --------------------------------------------------------------

    async def _start_child(
        self,
        decision: WorkflowStart,
        actor: Actor | None,
        origin_message_id: str,
        say_started: Callable[[TriggeredWorkflow], Awaitable[None]] | None = None,
    ) -> TriggeredWorkflow:
        """Start a child; ``say_started`` (posting "I've started …") runs before it starts (STARTED_FIRST_PATCH)."""
        kind = self.children.kind(decision.workflow_type)
        n = 1 + sum(1 for w in self.state.triggered_workflows if w.workflow_type == decision.workflow_type)
        workflow_id = f"{self.state.session_id}/{kind}/{n}"
        child_input = ChildWorkflowInput(
            origin=self.state.key,
            session_id=self.state.session_id,
            title=decision.title,
            severity=decision.severity,
            requested_by=actor,
            origin_message_id=origin_message_id,
            origin_context=self.state.reply_context,
            args={**self.children.args(decision.workflow_type), **decision.args},
            platform_retry_window_seconds=self.config.platform_retry_window_seconds,
            platforms=self.config.platforms,
        )
        started = TriggeredWorkflow(
            workflow_id=workflow_id,
            workflow_type=decision.workflow_type,
            started_at=workflow.now(),
            title=decision.title,
            display_name=self.children.display_name(decision.workflow_type),
        )
        if say_started is not None and workflow.patched(STARTED_FIRST_PATCH):
            await say_started(started)
        try:
            self._child_handles[workflow_id] = await workflow.start_child_workflow(
                decision.workflow_type,
                child_input,
                id=workflow_id,
                parent_close_policy=workflow.ParentClosePolicy.ABANDON,
            )
        except WorkflowAlreadyStartedError:
            workflow.logger.info("child %s already exists; recording it", workflow_id)
        self.state.triggered_workflows.append(started)
        return started

    @workflow.signal
    async def trigger_workflow(self, req: TriggerRequest) -> None:
        self._touch()
        async with self._lock:
            entry = self.spec_for(req.workflow_type)  # a type name or a short name
            if entry is None:
                await self._post(Reply(text=f"I don't know a workflow called {req.workflow_type!r}."))
                return
            title = req.title or req.workflow_type
            decision = WorkflowStart(workflow_type=entry.workflow_type, title=title, args=req.args)
            pointer = await self._already_running(decision)
            if pointer is not None:
                await self._post(pointer)
                return
            said: list[bool] = []

            async def say_started(child: TriggeredWorkflow) -> None:
                said.append(True)
                await self._post(builtin_reply("", self._summary(), child))

            hooks = self._hooks.get(decision.workflow_type)
            prepared = await hooks.prepare(decision) if hooks is not None else decision
            started = await self._start_child(prepared, req.actor, req.request_id, say_started)
            if not said:
                await self._post(builtin_reply("", self._summary(), started))
        self._touch()

    async def _already_running(self, decision: WorkflowStart) -> Reply | None:
        """The child type's own answer instead of a start (its hooks), or None."""
        hooks = self._hooks.get(decision.workflow_type)
        return await hooks.already_running(decision, self.state) if hooks is not None else None

    @workflow.signal
    def child_status(self, status: ChildStatus) -> None:
        for wf in self.state.triggered_workflows:
            if wf.workflow_id == status.workflow_id:
                wf.status = status.status

    @workflow.signal
    def check_build(self) -> None:
        """Sent by `threadwork deploy promote --move-idle`: the workflow task it causes tells an
        idle session that another build is current, and `run` continues-as-new onto it."""

    # ---- buttons and operator commands ------------------------------------------

    @workflow.update
    async def handle_action(self, event: ActionEvent) -> ActionResult:
        self._touch()
        if self._tools.owns(event.action_id):
            return await self._tools.handle_action(event)  # Approve/Cancel of a model's proposal
        if event.action_id == FEEDBACK_ACTION:  # a rating: no need to wait for a running turn
            return record_feedback(self.state, event, workflow.now())
        if event.action_id == STOP_ACTION:  # a Stop button: the running turn holds the lock
            result = self._turns.stop(StopRequest(actor=event.actor, request_id=event.event_id or ""))
            return ActionResult(ephemeral=result.detail or None)
        async with self._lock:
            if event.action_id == "session.status":
                await self._post(builtin_reply("status", self._summary(), None))
            elif event.action_id == "session.help":
                await self._post(builtin_reply("help", self._summary(), None))
            elif event.action_id == "session.end":
                self._end_reason = "command"
            else:
                return ActionResult(ephemeral=f"Unknown action {event.action_id!r}.")
        self._touch()
        return ActionResult()

    @handle_action.validator
    def validate_action(self, event: ActionEvent) -> None:
        if not self.state.is_active or self._end_reason is not None:
            raise ApplicationError("this session has ended", type="SessionEnded")

    @workflow.update
    def stop_turn(self, req: StopRequest) -> StopResult:
        """A Stop control (any platform): cancel the running turn; it ends its message with the text so far."""
        return self._turns.stop(req)

    @workflow.update
    def end_session(self, reason: str) -> SessionState:
        """Operator's graceful end (``threadwork sessions end``)."""
        if self._end_reason is None:
            self._end_reason = reason or "command"
        return self.state

    @workflow.query
    def get_session_state(self) -> SessionState:
        return self.state

    @workflow.query
    def get_triggered_workflows(self) -> list[TriggeredWorkflow]:
        return self.state.triggered_workflows
