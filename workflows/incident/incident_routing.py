"""The incident's session hooks: what a session does about incidents beyond starting them.

``incident note <text>``, ``incident update <text>``, ``incident status monitoring``,
``incident severity sev2``, ``incident approve <question>``, ``incident resolve``,
``incident catch up``, ``incident draft update`` and ``incident take command`` typed in the incident conversation (or in the thread that
declared it) become the same ActionEvents the card's buttons send. A second declaration
in a conversation that already has a running incident points to that incident instead
of opening another one.
"""

from __future__ import annotations

import re
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from workflows.activities.models import MatchRequest
    from workflows.activities.triggering import TriggerActivities
    from workflows.childspec import SessionHooks
    from workflows.contracts import ActionEvent, ActionResult, Actor, ChatMessage, Reply, SessionState, WorkflowStart
    from workflows.delivery import DELIVERY_FAILURES
    from workflows.incident.activities import IncidentActionRequest, IncidentActivities, IncidentLookup
    from workflows.incident.incident_card import (
        CATCH_UP,
        CHANGE_SEVERITY,
        DRAFT_UPDATE,
        NOTE,
        POST_UPDATE,
        REQUEST_APPROVAL,
        RESOLVE,
        TAKE_COMMAND,
    )

_COMMAND = re.compile(
    r"^\s*/?incident\s+(note|update|status|severity|sev|approve|approval|resolve|take\s+command|command|catch\s*up"
    r"|draft(?:\s+update)?)\b[\s:]*(.*)$",
    re.IGNORECASE | re.DOTALL,
)
_VERBS = {
    "note": NOTE,
    "update": POST_UPDATE,
    "status": POST_UPDATE,
    "severity": CHANGE_SEVERITY,
    "sev": CHANGE_SEVERITY,
    "approve": REQUEST_APPROVAL,
    "approval": REQUEST_APPROVAL,
    "resolve": RESOLVE,
    "command": TAKE_COMMAND,
    "catch up": CATCH_UP,
    "catchup": CATCH_UP,
    "draft": DRAFT_UPDATE,
    "draft update": DRAFT_UPDATE,
}
#: Verbs that mean nothing without an argument (so "incident update" alone stays a normal message).
_NEEDS_TEXT = {NOTE, POST_UPDATE, CHANGE_SEVERITY, REQUEST_APPROVAL}
#: Sessions recorded before this routing existed replay without it (workflow.patched).
PATCH_ID = "incident-routing-v1"
LOOKUP_RETRY = RetryPolicy(initial_interval=timedelta(milliseconds=200), maximum_attempts=3)


def parse_incident_command(text: str) -> tuple[str, str] | None:
    """(action_id, value) for an incident command, else None. Pure: adapters may use it too."""
    m = _COMMAND.match(text)
    if m is None:
        return None
    verb = " ".join(m.group(1).lower().split())
    action = TAKE_COMMAND if verb == "take command" else _VERBS[verb]
    value = m.group(2).strip()
    if action == CHANGE_SEVERITY:
        value = re.sub(r"^(?:sev)?\s*([1-4])$", r"SEV\1", value, flags=re.IGNORECASE)
    if action in _NEEDS_TEXT and not value:
        return None
    return action, value


class IncidentHooks(SessionHooks):
    """Run by ChatSessionWorkflow for the incident's ChildEntry; all I/O goes through (local) activities."""

    async def running_incident(self, state: SessionState) -> str | None:
        """This conversation's running incident: one it started, or the one whose channel it is in."""
        mine = self.entry.workflow_type
        running = [w for w in reversed(state.triggered_workflows) if w.workflow_type == mine and w.status == "running"]
        candidates = [w.workflow_id for w in running]
        try:
            return await workflow.execute_local_activity_method(
                IncidentActivities.find_incident_for,
                IncidentLookup(key=state.key, candidates=candidates),
                start_to_close_timeout=timedelta(seconds=10),
                retry_policy=LOOKUP_RETRY,
            )
        except DELIVERY_FAILURES as err:
            workflow.logger.warning("incident lookup failed: %s", err.cause or err)
            return candidates[0] if candidates else None

    async def already_running(self, decision: WorkflowStart, state: SessionState) -> Reply | None:
        """A pointer to the running incident when ``decision`` would declare a second one here."""
        if decision.workflow_type != self.entry.workflow_type or not workflow.patched(PATCH_ID):
            return None
        existing = await self.running_incident(state)
        if existing is None:
            return None
        title = next((w.title for w in state.triggered_workflows if w.workflow_id == existing), "")
        named = f' "{title}"' if title else ""
        text = (
            f"An incident{named} is already running for this conversation, so I did not open another. "
            "Add to it with `incident note <text>` or `incident update <text>`."
        )
        return Reply(text=text)

    async def prepare(self, decision: WorkflowStart) -> WorkflowStart:
        """An explicit declaration (``/incident <title>``) gets its severity guessed from the title too."""
        if decision.workflow_type != self.entry.workflow_type or decision.severity or not workflow.patched(PATCH_ID):
            return decision
        guess = await workflow.execute_local_activity_method(
            TriggerActivities.match_trigger,
            MatchRequest(text=decision.title),
            start_to_close_timeout=timedelta(seconds=5),
        )
        if guess is not None and guess.workflow_type == self.entry.workflow_type and guess.severity:
            return decision.model_copy(update={"severity": guess.severity})
        return decision

    async def send_action(self, incident_id: str, event: ActionEvent) -> ActionResult:
        """``event`` handled by the running incident ``incident_id`` (a chat command, a model's tool call)."""
        return await workflow.execute_local_activity_method(
            IncidentActivities.send_incident_action,
            IncidentActionRequest(workflow_id=incident_id, event=event),
            start_to_close_timeout=timedelta(seconds=30),
            retry_policy=LOOKUP_RETRY,
        )

    def change_event(self, state: SessionState, actor: Actor, change: str, value: str, event_id: str) -> ActionEvent:
        """The card action a tool's change means (workflows/tools/incidents.py): "resolved" resolves."""
        if change == "severity":
            action = CHANGE_SEVERITY
        elif value.strip().lower().rstrip(".!") == "resolved":
            action, value = RESOLVE, ""
        else:
            action = POST_UPDATE
        return ActionEvent(key=state.key, actor=actor, action_id=action, value=value, event_id=event_id)

    async def command(self, msg: ChatMessage, state: SessionState) -> tuple[bool, Reply | None]:
        """(handled, public reply). Not handled: not a command, or no incident here to send it to."""
        parsed = parse_incident_command(msg.text)
        if parsed is None or not workflow.patched(PATCH_ID):
            return False, None
        target = await self.running_incident(state)
        if target is None:
            return False, None
        action, value = parsed
        event = ActionEvent(
            key=msg.key, actor=msg.actor, action_id=action, value=value, event_id=f"command-{msg.message_id}"
        )
        try:
            result = await self.send_action(target, event)
        except DELIVERY_FAILURES as err:
            workflow.logger.warning("incident command for %s failed: %s", target, err)
            return True, Reply(text="I couldn't reach the incident just now; please send that again in a minute.")
        if result.ephemeral:
            try:
                await self.poster.send_private(msg.key, msg.actor.id, result.ephemeral)
                return True, None
            except DELIVERY_FAILURES:
                # No private messages on this platform (the web chat): answer in the thread.
                return True, Reply(text=f"{msg.actor.name or msg.actor.id}: {result.ephemeral}")
        done = result.notice or ("Added to the incident timeline." if action == NOTE else "Done.")
        return True, Reply(text=done)
