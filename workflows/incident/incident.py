"""IncidentWorkflow: declared from a conversation (or an alert), lives until someone resolves it.

It opens an incident conversation through the platform (falling back to the origin
thread, and saying why, when the platform refuses), keeps one summary card there that
is updated in place, lets only the commander and the configured responders change
things, records every decision, runs approvals (workflows/approval.py), reminds when
nobody has posted an update for a while, reports progress to the origin thread, and
finishes with a summary and a postmortem draft. Rendering lives in incident_card.py and
postmortem.py; the data in incident_models.py.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import ApplicationError, WorkflowAlreadyStartedError

with workflow.unsafe.imports_passed_through():
    from workflows.activities.models import CreateChannelRequest
    from workflows.approval import ApprovalRecord, ApprovalRequest, ApprovalStep
    from workflows.child_progress import ChildProgress
    from workflows.contracts import (
        UNDELIVERED_KEPT,
        ActionEvent,
        ActionResult,
        Actor,
        Button,
        ButtonsBlock,
        ChildWorkflowInput,
        ConversationKey,
        Reply,
        TextBlock,
        conversation_link,
        user_mention,
    )
    from workflows.delivery import DELIVERY_FAILURES, Poster, failure_reason
    from workflows.incident import incident_card as ui
    from workflows.incident.incident_ai import NARRATIVE_PATCH, IncidentAI
    from workflows.incident.incident_links import MEMO_KEY, IncidentLinkWorkflow, link_id
    from workflows.incident.incident_models import (
        STATUSES,
        DecisionRecord,
        IncidentOptions,
        IncidentState,
        TimelineEntry,
    )
    from workflows.incident.postmortem import render_postmortem
    from workflows.notify import report_status
    from workflows.severity import DEFAULT_SEVERITY, SEVERITIES

#: Short titles, readable channel names, announcements, a current topic, linked answers (docs/incidents.md).
#: Incidents recorded before it replay without the announcement and topic calls.
PRESENTATION_PATCH = "incident-presentation-v1"
NOT_AUTHORIZED = "You are not authorized to do that: only the incident commander ({commander}) and the configured responders can. Nothing changed."
Handler = Callable[[ActionEvent], Awaitable["ActionResult | None"]]


# Pinned on versioned workers (workflows/worker.py): an incident runs to its end on the build
# that started it (docs/deployment.md).
@workflow.defn
class IncidentWorkflow:
    @workflow.init
    def __init__(self, inp: ChildWorkflowInput) -> None:
        self.inp = inp
        self.options = IncidentOptions.model_validate(inp.args)
        now = workflow.now()
        severity = (inp.severity or DEFAULT_SEVERITY).upper()
        self.state = IncidentState(
            title=ui.short_title(inp.title),
            severity=severity if severity in SEVERITIES else DEFAULT_SEVERITY,
            reporter=inp.requested_by,
            commander=inp.requested_by,
            responders=self.options.responders,
            started_at=now,
            last_update_at=now,
            conversation=inp.origin,
            origin=inp.origin,
        )
        self._context = inp.origin_context  # reply context of state.conversation
        self._poster = Poster(inp.platform_retry_window_seconds, inp.platforms)
        self.approvals = ApprovalStep(self._poster, authorize=self._authorized, on_event=self._approval_event)
        # The setup's steps (responders, channel, card) as one message in the origin thread (CHILD_PROGRESS_PATCH).
        self._progress = ChildProgress(self._poster, inp.origin, inp.origin_context)
        self._lock = asyncio.Lock()
        self._ready = False
        self._present = False  # set in run (workflow.patched)
        self._linked = False
        self._updates = 0
        self._watchers: list[asyncio.Task[ApprovalRecord]] = []
        self._actions: dict[str, tuple[bool, Handler]] = {
            ui.TAKE_COMMAND: (True, self._take_command),
            ui.CHANGE_SEVERITY: (True, self._change_severity),
            ui.POST_UPDATE: (True, self._post_update),
            ui.RESOLVE: (True, self._resolve),
            ui.CLOSE_PICKER: (True, self._close_picker),
            ui.REQUEST_APPROVAL: (True, self._request_approval),
            ui.NOTE: (False, self._note),
            ui.CATCH_UP: (False, self._catch_up),
            ui.DRAFT_UPDATE: (True, self._draft_update),
        }
        self._ai = IncidentAI()

    # ---- life ------------------------------------------------------------------

    @workflow.run
    async def run(self, inp: ChildWorkflowInput) -> IncidentState:
        self._present = workflow.patched(PRESENTATION_PATCH)
        self._log(inp.requested_by, "declared", f"Incident declared: {inp.title} ({self.state.severity})")
        if self.options.open_channel:
            # Without a channel of its own the card itself is the incident's one message in the thread.
            self._progress.start("Setting up the incident…", inp.requested_by)
        await self._resolve_responders()
        if self.options.open_channel:
            await self._open_conversation()
        async with self._lock:
            await self._post_card()
        self._ready = True
        await self._end_setup()
        interval = timedelta(seconds=self.options.update_interval_seconds)
        nudged = self.state.last_update_at
        while not self.state.is_resolved():
            seen = self._updates
            due = max(self.state.last_update_at, nudged) + interval
            try:
                await workflow.wait_condition(
                    lambda: self.state.is_resolved() or self._updates != seen,  # noqa: B023 - awaited within this iteration
                    timeout=max(due - workflow.now(), timedelta(milliseconds=1)),
                )
            except TimeoutError:
                nudged = workflow.now()
                self.state.reminders_sent += 1
                await self._say(ui.reminder_reply(self.state, self.options.update_interval_seconds))
        await self._finish()
        return self.state

    async def _resolve_responders(self) -> None:
        """Configured responders may name groups (a Slack user group): authorize and invite their members."""
        if not self.options.responders:
            return
        self._progress.step("responders", "Looking up the responders", "in_progress")
        try:
            members = await self._poster.resolve_members(self.inp.origin, self.options.responders)
        except DELIVERY_FAILURES as err:
            self._log(None, "responders", f"Responder groups could not be expanded: {failure_reason(err)}")
            self._progress.step("responders", "Responder groups could not be expanded", "error")
            return
        self.options.responders = self.state.responders = list(dict.fromkeys(members))
        count = len(self.state.responders)
        self._progress.step("responders", f"{count} responder{'' if count == 1 else 's'} found", "complete")

    async def _open_conversation(self) -> None:
        """A new conversation via the platform; on refusal (after retries) stay in the origin thread."""
        members = list(
            dict.fromkeys(([self.state.reporter.id] if self.state.reporter else []) + self.options.responders)
        )
        retry = RetryPolicy(
            initial_interval=timedelta(seconds=1),
            maximum_interval=timedelta(seconds=10),
            maximum_attempts=self.options.channel_attempts,
        )
        # A taken name is the platform's to solve (Slack tries suffixes itself): one request here.
        rule = self._poster.traits(self.inp.origin.platform).channel_names
        name = ui.channel_name(self.state.title, self.state.started_at, rule=rule)
        request = CreateChannelRequest(like=self.inp.origin, name=name, topic=ui.topic(self.state), members=members)
        self._progress.step("channel", "Opening the incident channel", "in_progress")
        try:
            created = await self._poster.create_channel(request, retry)
        except DELIVERY_FAILURES as err:
            reason = failure_reason(err)
            self.state.fallback_reason = f"the platform refused to create a channel: {reason}"
            self._log(None, "channel", f"No incident channel: {reason}")
            self._progress.step("channel", "No incident channel: handled in this thread", "error")
            if not self._progress.active:  # else the progress message ends with it (_end_setup)
                await self._tell_origin(ui.fallback_reply(self.state), always=True)
            return
        # The platform may have suffixed a taken name: show the name it really gave.
        self.state.conversation, self.state.conversation_name, self._context = created.key(), created.name or name, None
        self._log(None, "channel", f"Incident conversation opened: #{self.state.conversation_name}")
        self._progress.step("channel", f"Channel #{self.state.conversation_name} created", "complete")
        await self._start_link()

    async def _start_link(self) -> None:
        wf_id = workflow.info().workflow_id
        try:
            await workflow.start_child_workflow(
                IncidentLinkWorkflow.run,
                wf_id,
                id=link_id(self.state.conversation),
                memo={MEMO_KEY: wf_id},
                # The link ends with the incident: the server cancels it when we close.
                parent_close_policy=workflow.ParentClosePolicy.REQUEST_CANCEL,
                # A channel id is new when we get it, so a running link with it is stale: replace it.
                id_reuse_policy=WorkflowIDReusePolicy.TERMINATE_IF_RUNNING,
            )
            self._linked = True
        except WorkflowAlreadyStartedError:
            workflow.logger.warning("conversation %s is already linked to an incident", self.state.conversation)

    async def _post_card(self) -> None:
        card = self._card()
        self._progress.step("card", "Posting the incident card", "in_progress")
        try:
            self.state.card = await self._poster.post(self.state.conversation, card, self._context)
        except DELIVERY_FAILURES as err:
            self._undelivered(err, self.state.conversation, card)
            self._progress.step("card", "The incident card could not be posted", "error")
            return
        try:
            await self._poster.pin(self.state.card)
        except DELIVERY_FAILURES as err:
            workflow.logger.warning("pinning the incident card failed: %s", failure_reason(err))
        self._progress.step("card", "Incident card posted", "complete")
        if self.state.conversation != self.state.origin and not self._progress.active:
            await self._tell_origin(ui.link_reply(self.state))
        await self._announce_incident(opened=True)

    async def _end_setup(self) -> None:
        """The progress message ends with what the thread used to be told in a post of its own."""
        if not self._progress.active:
            return
        moved = self.state.conversation != self.state.origin
        reply = ui.link_reply(self.state) if moved else ui.fallback_reply(self.state)
        try:
            shown = await self._progress.finish(reply)
        except DELIVERY_FAILURES as err:
            self._undelivered(err, self.state.origin, reply)
            return
        if not shown:  # a platform without streams: the post of before
            await self._tell_origin(reply, always=True)

    async def _finish(self) -> None:
        await workflow.wait_condition(lambda: workflow.all_handlers_finished() and not self._lock.locked())
        if self._linked:
            # Lookups by channel stop finding us now (REQUEST_CANCEL on close is the backstop).
            try:
                await workflow.get_external_workflow_handle(link_id(self.state.conversation)).signal(
                    IncidentLinkWorkflow.close
                )
            except ApplicationError as err:
                workflow.logger.info("link already closed: %s", err)
        for approval_id in self.approvals.pending():
            self.approvals.cancel(approval_id, "the incident was resolved")
        await asyncio.gather(*self._watchers)
        await self.approvals.close_cancelled()
        self.state.summary = ui.summary_text(self.state)
        self.state.postmortem = render_postmortem(self.state)
        if workflow.patched(NARRATIVE_PATCH):
            self.state.postmortem += await self._ai.narrative(self.state, workflow.now())
        await self._refresh_card()
        summary = ui.summary_reply(self.state)
        await self._say(summary)
        await self._tell_origin(summary)
        await self._say(ui.postmortem_reply(self.state))
        await self._update_topic()
        await self._announce_incident(opened=False)
        await report_status(self.inp.session_id, "resolved")

    # ---- clicks and commands ------------------------------------------------------

    @workflow.update
    async def handle_action(self, event: ActionEvent) -> ActionResult:
        """Buttons of the card and of approvals, and commands (``incident note ...``) sent as the same events."""
        return await self._act(event)

    async def _act(self, event: ActionEvent) -> ActionResult:
        await workflow.wait_condition(lambda: self._ready)
        if ApprovalStep.owns(event.action_id):
            return await self._approval_click(event)
        known = self._actions.get(event.action_id)
        if known is None:
            return ActionResult(ephemeral=f"Unknown incident action {event.action_id!r}.")
        needs_auth, handler = known
        allowed = self._may(event.actor, event.action_id) if needs_auth else True
        self._decide(event.actor, event.action_id, event.value, allowed)
        if not allowed:
            return ActionResult(ephemeral=self._refusal(event.actor))
        async with self._lock:
            if self.state.is_resolved():
                return ActionResult(ephemeral="This incident is already resolved.")
            answer = await handler(event)
            await self._refresh_card()
        return answer or ActionResult(update=self._card())

    @handle_action.validator
    def validate_action(self, event: ActionEvent) -> None:
        if self.state.is_resolved():
            raise ApplicationError("this incident is already resolved", type="AlreadyResolved")

    @workflow.update
    async def add_note(self, event: ActionEvent) -> IncidentState:
        """A timeline note from outside a click (e.g. a :pushpin: reaction seen by the Slack adapter)."""
        if not event.value.strip():
            raise ApplicationError("a note needs text", type="InvalidNote")
        await self._act(event.model_copy(update={"action_id": ui.NOTE}))
        return self.state

    @add_note.validator
    def validate_note(self, event: ActionEvent) -> None:
        self.validate_action(event)

    @workflow.update
    async def system_resolve(self, reason: str) -> IncidentState:
        """Resolve from an external source (a monitoring alert that cleared): no user to authorize."""
        async with self._lock:
            if not self.state.is_resolved():
                self._decide(Actor(id="system", name="threadwork"), ui.RESOLVE, reason, True)
                self._set_resolved(None, f"Resolved: {reason}")
                await self._refresh_card()
        return self.state

    @workflow.query
    def get_incident_state(self) -> IncidentState:
        return self.state

    # ---- what each action does (called under the lock) -------------------------------

    async def _take_command(self, event: ActionEvent) -> ActionResult | None:
        if self.state.commander and self.state.commander.id == event.actor.id:
            return ActionResult(ephemeral="You are already the incident commander.")
        before = ui.who(self.state.commander)
        self.state.commander = event.actor
        self._log(event.actor, "command", f"{ui.who(event.actor)} took command (was {before})")
        await self._say(Reply(text=f"{user_mention(event.actor)} is now the incident commander (was {before})."))
        return None

    async def _change_severity(self, event: ActionEvent) -> ActionResult | None:
        wanted = event.value.strip().upper().replace(" ", "")
        if not wanted:
            self.state.picker = "severity"
            return None
        if wanted not in SEVERITIES:
            return ActionResult(ephemeral=f"Unknown severity {event.value!r}; use one of {', '.join(SEVERITIES)}.")
        self.state.picker = None
        if wanted == self.state.severity:
            return ActionResult(ephemeral=f"The severity is already {wanted}.")
        change = f"severity {self.state.severity} -> {wanted} ({ui.who(event.actor)})"
        self.state.severity = wanted
        self._log(event.actor, "severity", change)
        await self._announce(change)
        await self._update_topic()
        return self._outcome(f"The severity is now {wanted}.")

    async def _post_update(self, event: ActionEvent) -> ActionResult | None:
        text = event.value.strip()
        if not text:
            self.state.picker = "status"
            return None
        if text.lower() == "resolved":
            return await self._resolve(event.model_copy(update={"value": ""}))
        self.state.picker = None
        if text.lower() in STATUSES:
            if text.lower() == self.state.status:
                return ActionResult(ephemeral=f"The status is already {self.state.status}.")
            change = f"status {self.state.status} -> {text.lower()} ({ui.who(event.actor)})"
            self.state.status = text.lower()  # type: ignore[assignment]
            self._log(event.actor, "status", change)
            outcome = f"The status is now {self.state.status}."
        else:
            change = f"update from {ui.who(event.actor)}: {text}"
            self._log(event.actor, "update", text)
            outcome = "Update posted."
        await self._announce(change)
        await self._update_topic()
        return self._outcome(outcome)

    async def _resolve(self, event: ActionEvent) -> ActionResult | None:
        note = f": {event.value.strip()}" if event.value.strip() else ""
        self._set_resolved(event.actor, f"Resolved by {ui.who(event.actor)}{note}")
        return None

    async def _close_picker(self, event: ActionEvent) -> ActionResult | None:
        self.state.picker = None
        return None

    async def _note(self, event: ActionEvent) -> ActionResult | None:
        if not event.value.strip():
            return ActionResult(ephemeral="A note needs text: `incident note <text>`.")
        self._log(event.actor, "note", event.value.strip())
        return None

    async def _catch_up(self, event: ActionEvent) -> ActionResult | None:
        """The incident so far, for the asker only (a private message where the platform has them)."""
        return ActionResult(ephemeral=await self._ai.catch_up(self.state, workflow.now()))

    async def _draft_update(self, event: ActionEvent) -> ActionResult | None:
        """A stakeholder update proposed in the incident conversation: posted only when someone clicks."""
        message, draft = await self._ai.draft_update(self.state, workflow.now())
        head, _, _ = message.partition("\n")
        hint = "Post it as it is with the button, or edit it and send `incident update <your text>`."
        post = Button(
            label="Post this update",
            action_id=ui.POST_UPDATE,
            value=draft,
            workflow_id=workflow.info().workflow_id,
            style="primary",
        )
        await self._say(
            Reply(
                text=f"{message}\n{hint}",
                blocks=[
                    TextBlock(text=head.rstrip(":"), style="heading"),
                    TextBlock(text=draft),
                    TextBlock(text=hint, style="context"),
                    ButtonsBlock(buttons=[post]),
                ],
            )
        )
        return self._outcome("A draft update is posted in the incident conversation for review.")

    async def _request_approval(self, event: ActionEvent) -> ActionResult | None:
        question = event.value.strip()
        if not question:
            return ActionResult(ephemeral="An approval needs a question: `incident approve <question>`.")
        escalate = (
            self.options.escalate_to
            or self.options.responders
            or ([self.state.commander.id] if self.state.commander else [])
        )
        req = ApprovalRequest(
            approval_id=f"approval-{len(self.approvals.records) + 1}",
            question=question,
            conversation=self.state.conversation,
            context=self._context,
            requested_by=event.actor,
            timeout_seconds=self.options.approval_timeout_seconds,
            escalate_to=escalate,
        )
        await self.approvals.open(req)
        self._watchers.append(asyncio.create_task(self.approvals.wait(req.approval_id)))
        record = self.approvals.records.get(req.approval_id)
        if record is None or record.message is None:
            return self._outcome(f'Approval requested: "{question}".')
        buttons = conversation_link(ui.message_thread(record.message), "the approval message")
        return self._outcome(f'Approval requested: "{question}". Approve or Reject it on {buttons}.')

    async def _approval_click(self, event: ActionEvent) -> ActionResult:
        record = self.approvals.records.get(event.value)
        if (
            record is not None
            and record.outcome == "pending"
            and not self.approvals.may_decide(event.value, event.actor)
        ):
            self._decide(event.actor, event.action_id, record.question, False)
        result = await self.approvals.handle_action(event)
        async with self._lock:
            await self._refresh_card()
        return result

    def _approval_event(self, record: ApprovalRecord, what: str) -> None:
        self.state.approvals = list(self.approvals.records.values())
        if what in ("approved", "rejected"):
            actor = record.decided_by or Actor(id="unknown")
            self._decide(actor, f"approval.{what}", record.question, True)
            self._log(actor, "approval", f"{what}: {record.question}")
        elif what == "requested":
            self._log(record.requested_by, "approval", f"approval requested: {record.question}")
        else:
            self._log(None, "approval", f"approval {what}: {record.question}")

    # ---- helpers -------------------------------------------------------------------------

    def _authorized(self, actor: Actor) -> bool:
        commander = self.state.commander
        return (commander is not None and commander.id == actor.id) or actor.id in self.options.responders

    def _refusal(self, actor: Actor) -> str:
        """Why ``actor`` was refused; says so when only the name matches the commander's (names are labels)."""
        text = NOT_AUTHORIZED.format(commander=ui.who(self.state.commander))
        commander = self.state.commander
        if commander is not None and actor.name and actor.name == commander.name and actor.id != commander.id:
            text += (
                f" You are not the commander: another user is also named {commander.name}, and a name is only a label."
            )
        return text

    def _may(self, actor: Actor, action: str) -> bool:
        if self._authorized(actor):
            return True
        # Nobody is in charge (an alert started it, no responders configured): anyone may take command.
        return action == ui.TAKE_COMMAND and self.state.commander is None and not self.options.responders

    def _set_resolved(self, actor: Actor | None, text: str) -> None:
        self.state.status = "resolved"
        self.state.resolved_at = workflow.now()
        self.state.picker = None
        self._log(actor, "resolved", text)

    def _log(self, actor: Actor | None, kind: str, text: str) -> None:
        name = ui.who(actor) if actor else "threadwork"
        self.state.timeline.append(TimelineEntry(at=workflow.now(), actor=name, kind=kind, text=text))  # type: ignore[arg-type]
        if actor is not None:
            self.state.last_update_at = workflow.now()
            self._updates += 1

    def _decide(self, actor: Actor, action: str, detail: str, allowed: bool) -> None:
        self.state.decisions.append(
            DecisionRecord(
                at=workflow.now(),
                actor_id=actor.id,
                actor_name=actor.name,
                action=action,
                detail=detail,
                allowed=allowed,
            )
        )

    def _outcome(self, text: str) -> ActionResult | None:
        """What a typed command answers in its thread (a click gets the card update, as before)."""
        return ActionResult(update=self._card(), notice=text) if self._present else None

    def _card(self) -> Reply:
        return ui.card(self.state, workflow.info().workflow_id, workflow.now())

    async def _refresh_card(self) -> None:
        if self.state.card is None:
            return
        card = self._card()
        try:
            await self._poster.update(self.state.card, card)
        except DELIVERY_FAILURES as err:
            self._undelivered(err, self.state.card.key, card, "update")

    async def _update_topic(self) -> None:
        """Keep the incident channel's topic current (only a channel the incident opened; never the origin's)."""
        if not self._present or self.state.conversation == self.state.origin:
            return
        try:
            await self._poster.set_topic(self.state.conversation, ui.topic(self.state))
        except DELIVERY_FAILURES as err:
            workflow.logger.warning("updating the incident channel topic failed: %s", failure_reason(err))

    async def _announce_incident(self, opened: bool) -> None:
        """Tell the incidents channel (THREADWORK_INCIDENT_ANNOUNCE_CHANNELS) that an incident opened or resolved."""
        channel = self.options.announce_channels.get(self.state.origin.platform, "")
        if not self._present or not channel:
            return
        key = ConversationKey(
            platform=self.state.origin.platform, workspace=self.state.origin.workspace, channel=channel
        )
        for where in (self.state.conversation, self.state.origin):
            if where.platform == key.platform and where.channel == channel and where.thread in (None, "main"):
                return  # the incidents channel itself runs or started it (an alert): it already sees everything
        try:
            await self._poster.post(key, ui.announcement(self.state, opened))
        except DELIVERY_FAILURES as err:
            workflow.logger.warning("announcing the incident in %s failed: %s", channel, failure_reason(err))

    async def _announce(self, change: str) -> None:
        """A change said in the incident conversation and, briefly, in the origin thread."""
        await self._say(Reply(text=f"Incident update: {change}"))
        await self._tell_origin(ui.progress_reply(self.state, change))

    async def _say(self, reply: Reply) -> None:
        try:
            await self._poster.post(self.state.conversation, reply, self._context)
        except DELIVERY_FAILURES as err:
            self._undelivered(err, self.state.conversation, reply)

    async def _tell_origin(self, reply: Reply, always: bool = False) -> None:
        if not always and self.state.conversation == self.state.origin:
            return
        try:
            await self._poster.post(self.state.origin, reply, self.inp.origin_context)
        except DELIVERY_FAILURES as err:
            self._undelivered(err, self.state.origin, reply)

    def _undelivered(self, err: BaseException, key: ConversationKey, reply: Reply, what: str = "post") -> None:
        self.state.undelivered.append(self._poster.undelivered(err, key, reply, what))
        del self.state.undelivered[:-UNDELIVERED_KEPT]
