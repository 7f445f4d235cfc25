"""IncidentWorkflow on the real dev server, driven through the web chat (gateway + worker)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from temporalio.client import WorkflowExecutionStatus
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.worker import Replayer

from adapters.base import PlatformError
from adapters.webchat.platform import WebChatPlatform
from bots.dispatch import Dispatcher
from tests.support.helpers import eventually
from tests.support.incident_chat import Incident, buttons, declare, fields
from tests.support.stack import running_stack
from workflows.chat_session import ChatSessionWorkflow
from workflows.contracts import (
    ActionEvent,
    Actor,
    ChildWorkflowInput,
    ConversationKey,
    TriggerRequest,
    plain_links,
)
from workflows.data_converter import data_converter
from workflows.incident import IncidentWorkflow
from workflows.worker import WORKFLOWS

DECLARATION = "we have a critical incident: payments are down"


async def test_channel_card_authorization_changes_and_resolve_with_postmortem(client, tmp_path):
    async with running_stack(client, tmp_path, incident_responders="bob, carol") as stack:
        inc = await declare(stack, DECLARATION)
        card = await inc.card()
        state = await inc.state()
        today = datetime.now(UTC).strftime("%Y%m%d")
        assert state.conversation_name == f"inc-{today}-payments-are-down" and state.title == "Payments are down"
        assert card["channel"] == state.conversation.channel == state.conversation_name
        assert state.responders == ["bob", "carol"] and state.commander.id == "alice" and state.severity == "SEV1"
        assert buttons(card) == [
            ["Take command", "Change severity", "Post update", "Resolve", "Catch up", "Draft update"]
        ]
        assert fields(card)["Status"] == "investigating" and plain_links(fields(card)["Commander"]) == "@alice"
        assert {"Severity", "Started", "Duration", "Last update"} <= set(fields(card))
        origin = await eventually(inc.origin_texts, lambda t: any(state.conversation_name in x for x in t), what="link")
        assert any(f"#{state.conversation_name}" in plain_links(t) for t in origin)

        # An outsider is refused privately; nothing changes, the refusal is recorded.
        refused = await inc.click("incident.resolve", "mallory")
        assert "not authorized" in refused["ephemeral"]
        assert (await inc.card())["blocks"] == card["blocks"]
        state = await inc.state()
        assert state.status == "investigating"
        assert [(d.actor_id, d.action, d.allowed) for d in state.decisions] == [("mallory", "incident.resolve", False)]

        # A responder takes command; the card is updated in place.
        assert (await inc.click("incident.take_command", "bob"))["ephemeral"] is None
        card = await inc.card()
        assert plain_links(fields(card)["Commander"]) == "@bob"
        # The reporter is no longer in command and not a responder: refused.
        assert "not authorized" in (await inc.click("incident.severity", "alice"))["ephemeral"]

        # Change severity: the picker row appears on the same card, then SEV2 is chosen.
        await inc.click("incident.severity", "bob")
        card = await inc.card()
        assert buttons(card)[1] == ["SEV2", "SEV3", "SEV4", "Cancel"]
        await inc.click("incident.severity", "bob", value="SEV2")
        card = await inc.card()
        assert fields(card)["Severity"] == "SEV2" and len(buttons(card)) == 1
        await eventually(
            inc.origin_texts, lambda t: any("severity SEV1 -> SEV2 (bob)" in x for x in t), what="severity progress"
        )

        # Post update -> status picker -> identified; progress goes back to the origin thread.
        await inc.click("incident.update", "carol")
        assert buttons(await inc.card())[1] == ["Identified", "Monitoring", "Cancel"]
        await inc.click("incident.update", "carol", value="identified")
        assert fields(await inc.card())["Status"] == "identified"
        await eventually(
            inc.origin_texts,
            lambda t: any("status investigating -> identified (carol)" in x for x in t),
            what="status progress",
        )

        # Anyone may add a note from the incident conversation.
        note = await stack.say("incident note restarted the primary database", channel=inc_channel(state), user="dave")
        await stack.wait_bot_messages(note["thread"], 1, channel=inc_channel(state))
        assert "timeline" in (await stack.bot_messages(note["thread"], inc_channel(state)))[0]["text"]
        state = await inc.wait_state(lambda s: any(e.kind == "note" for e in s.timeline), "the note")
        assert [e.text for e in state.timeline if e.kind == "note"] == ["restarted the primary database"]

        await inc.click("incident.resolve", "bob")
        result = await inc.result()
        assert result.status == "resolved" and result.resolved_at is not None
        assert [e.kind for e in result.timeline] == [
            "declared",
            "channel",
            "command",
            "severity",
            "status",
            "note",
            "resolved",
        ]
        assert result.postmortem.startswith("# Postmortem (draft): Payments are down")
        assert "| Severity | SEV2 |" in result.postmortem and "restarted the primary database" in result.postmortem
        assert "| mallory | incident.resolve | " in result.postmortem
        final = await inc.card()
        assert final["id"] == card["id"] and buttons(final) == [] and fields(final)["Status"] == "resolved"
        cards = [m for m in await stack.store.messages(inc_channel(state)) if m["text"].startswith("Incident SEV")]
        assert len(cards) == 1  # updated in place, never re-posted
        channel_texts = await inc.channel_texts()
        assert any(t.startswith("Incident resolved: ") and "duration" in t for t in channel_texts)
        assert channel_texts[-1].startswith("Postmortem (draft): Payments are down\n")
        origin = await inc.origin_texts()
        assert any(t.startswith("Incident resolved: ") and "Timeline:" in t and "Decisions:" in t for t in origin)
        session = await stack.state(inc.session_id)
        assert session["triggered_workflows"][0]["status"] == "resolved"
        link = await client.get_workflow_handle(f"incident-link:webchat::{state.conversation.channel}").describe()
        assert link.status == WorkflowExecutionStatus.COMPLETED
        # The recorded history replays with this code: the workflow is deterministic.
        history = await client.get_workflow_handle(inc.workflow_id).fetch_history()
        replayed = await Replayer(workflows=WORKFLOWS, data_converter=data_converter).replay_workflow(history)
        assert replayed.replay_failure is None


def inc_channel(state) -> str:
    return state.conversation.channel


async def test_reminder_after_update_interval_without_updates(client, tmp_path):
    async with running_stack(client, tmp_path, incident_update_interval=1.0) as stack:
        inc = await declare(stack, "sev2 incident: search is slow")
        state = await inc.wait_state(lambda s: s.reminders_sent >= 1, "a reminder")
        assert state.severity == "SEV2"
        texts = await eventually(
            inc.channel_texts, lambda t: any(x.startswith("Reminder:") for x in t), what="reminder post"
        )
        reminder = next(t for t in texts if t.startswith("Reminder:"))
        assert 'no update on incident "Search is slow" for 1s' in reminder and "alice" in reminder
        # Reminders go to the incident conversation only, not to the origin thread.
        assert not any(t.startswith("Reminder:") for t in await inc.origin_texts())
        await client.get_workflow_handle(inc.workflow_id).execute_update(IncidentWorkflow.system_resolve, "test over")
        assert (await inc.result()).status == "resolved"


async def test_approval_in_incident_times_out_escalates_and_is_decided_by_a_responder(client, tmp_path):
    async with running_stack(client, tmp_path, incident_responders="bob", incident_approval_timeout=1.0) as stack:
        inc = await declare(stack, "critical outage: checkout is down")
        channel = await inc.channel()
        asked = await stack.say("incident approve Roll back checkout to v1.4.2?", channel=channel, user="alice")
        await stack.wait_bot_messages(asked["thread"], 1, channel=channel)
        texts = await eventually(
            inc.channel_texts, lambda t: any(x.startswith("Escalating:") for x in t), what="escalation"
        )
        escalation = next(t for t in texts if t.startswith("Escalating:"))
        assert "Roll back checkout to v1.4.2?" in escalation and "bob" in escalation
        question = next(m for m in await stack.store.messages(channel) if m["text"].startswith("Approval needed:"))
        assert buttons(question) == [["Approve", "Reject"]]

        refused = await inc.click("approval.approve", "mallory", value="approval-1", message=question)
        assert "not authorized" in refused["ephemeral"]
        assert (await inc.state()).approvals[0].outcome == "pending"
        assert (await inc.click("approval.approve", "bob", value="approval-1", message=question))["ephemeral"] is None
        state = await inc.wait_state(lambda s: s.approvals and s.approvals[0].outcome == "approved", "approval")
        record = state.approvals[0]
        assert record.decided_by.id == "bob" and record.escalated_at is not None and record.requested_by.id == "alice"
        assert [(d.actor_id, d.action, d.allowed) for d in state.decisions] == [
            ("alice", "incident.approval", True),
            ("mallory", "approval.approve", False),
            ("bob", "approval.approved", True),
        ]
        assert [e.text for e in state.timeline if e.kind == "approval"] == [
            "approval requested: Roll back checkout to v1.4.2?",
            "approval escalated: Roll back checkout to v1.4.2?",
            "approved: Roll back checkout to v1.4.2?",
        ]
        await eventually(
            inc.channel_texts, lambda t: any(x.startswith("Approved by bob at ") for x in t), what="decision post"
        )

        # A pending approval is cancelled at resolve; decided ones land in the postmortem.
        await stack.say("incident approve Fail over to the EU region?", channel=channel, user="bob")
        await inc.wait_state(lambda s: len(s.approvals) == 2, "second approval")
        await inc.click("incident.resolve", "bob")
        result = await inc.result()
        assert [a.outcome for a in result.approvals] == ["approved", "cancelled"]
        assert "| Roll back checkout to v1.4.2? | approved | bob |" in result.postmortem
        assert "Roll back checkout to v1.4.2?: approved by bob" in result.summary


async def test_duplicate_declarations_point_to_the_running_incident(stack):
    inc = await declare(stack, DECLARATION)
    channel = await inc.channel()
    again = await stack.say("critical incident again, payments still down", thread=inc.origin_thread)
    pointer = await eventually(inc.origin_texts, lambda t: any("already running" in x for x in t), what="pointer")
    assert not any(inc.workflow_id in x for x in pointer)  # ids stay out of chat
    assert len((await stack.state(again["session_id"]))["triggered_workflows"]) == 1

    # Declaring inside the incident's own conversation points to it as well.
    inside = await stack.say("this outage is getting worse", channel=channel, user="bob")
    await stack.wait_bot_messages(inside["thread"], 1, channel=channel)
    [reply] = await stack.bot_messages(inside["thread"], channel)
    assert "already running" in reply["text"] and inc.workflow_id not in reply["text"]
    assert (await stack.state(inside["session_id"]))["triggered_workflows"] == []

    # The same thread may declare again once the incident is resolved: a new incident, n=2.
    await inc.click("incident.resolve", "alice")
    await inc.result()
    await eventually(lambda: stack.state(inc.session_id), lambda s: s["triggered_workflows"][0]["status"] == "resolved")
    await stack.say("sev1 incident: payments down again", thread=inc.origin_thread)
    state = await eventually(
        lambda: stack.state(inc.session_id), lambda s: len(s["triggered_workflows"]) == 2, what="second incident"
    )
    assert state["triggered_workflows"][1]["workflow_id"] == f"{inc.session_id}/incident/2"


class ChannelsRefused(WebChatPlatform):
    """The web chat with channel creation refused, as a platform without that permission answers."""

    async def create_channel(self, name, *, topic="", members=None, like):
        raise PlatformError("missing_scope: channels:manage")


async def test_refused_channel_falls_back_to_the_origin_thread_and_says_why(client, tmp_path):
    async with running_stack(client, tmp_path) as stack:
        stack.platforms.registry.register(ChannelsRefused(stack.store))
        inc = await declare(stack, DECLARATION)
        state = await inc.wait_state(lambda s: s.card is not None, "the card")
        assert state.conversation == state.origin and state.conversation.thread == inc.origin_thread
        assert "missing_scope: channels:manage" in state.fallback_reason
        # The setup's progress message ends with why (after the card: its last step).
        await eventually(
            inc.origin_texts,
            lambda t: any(x.startswith("I couldn't open an incident channel") and "missing_scope" in x for x in t),
            what="the fallback note",
        )
        card = await inc.card()
        assert card["thread"] == inc.origin_thread
        assert any(b["type"] == "text" and "missing_scope" in b["text"] for b in card["blocks"])
        assert [c["id"] for c in await stack.store.channels()] == ["general", "incidents"]

        # Status progress is not doubled when the incident runs in the origin thread.
        await inc.click("incident.update", "alice")
        await inc.click("incident.update", "alice", value="monitoring")
        await eventually(
            inc.origin_texts, lambda t: any("Incident update: status investigating -> monitoring" in x for x in t)
        )
        assert not any(t.startswith('Incident "') for t in await inc.origin_texts())
        # A typed refusal cannot be private on the web chat, so it is answered in the thread.
        await stack.say("incident resolve", thread=inc.origin_thread, user="mallory")
        await eventually(inc.origin_texts, lambda t: any(x.startswith("mallory: You are not authorized") for x in t))
        assert (await inc.state()).status == "monitoring"
        await stack.say("incident resolve", thread=inc.origin_thread, user="alice")
        result = await inc.result()
        assert result.status == "resolved"
        summaries = [t for t in await inc.origin_texts() if t.startswith("Incident resolved: ")]
        assert len(summaries) == 1


async def test_alert_started_incident_keeps_the_child_input_contract(stack):
    """The events issue starts incidents for alerts by id and resolves them with system_resolve."""
    origin = ConversationKey(platform="webchat", channel="incidents")
    inp = ChildWorkflowInput(origin=origin, session_id="", title="HighErrorRate on checkout", severity="sev2")
    handle = await stack.client.start_workflow(
        IncidentWorkflow.run, inp, id="alert:fp-1234", task_queue=stack.settings.task_queue
    )
    with pytest.raises(WorkflowAlreadyStartedError):
        await stack.client.start_workflow(
            IncidentWorkflow.run, inp, id="alert:fp-1234", task_queue=stack.settings.task_queue
        )
    inc = Incident(stack, "", "", "alert:fp-1234")
    state = await inc.wait_state(lambda s: s.card is not None, "the card")
    assert state.commander is None and state.severity == "SEV2"
    assert plain_links(fields(await inc.card())["Commander"]) == "unassigned"
    # Nobody is in charge and no responders are configured: anyone may take command, then only they act.
    assert (await inc.click("incident.take_command", "erin"))["ephemeral"] is None
    assert "not authorized" in (await inc.click("incident.resolve", "frank"))["ephemeral"]
    resolved = await handle.execute_update(IncidentWorkflow.system_resolve, "alert cleared")
    assert resolved.status == "resolved"
    result = await handle.result()
    assert result.timeline[-1].text == "Resolved: alert cleared" and result.commander.id == "erin"
    texts = [m["text"] for m in await stack.store.messages("incidents") if m["is_bot"]]
    assert any(
        plain_links(t).startswith('Incident SEV2 "HighErrorRate on checkout" is being handled in #inc-') for t in texts
    )
    assert any(t.startswith("Incident resolved: HighErrorRate on checkout") for t in texts)


async def test_platform_events_reach_the_incident_of_a_channel(stack):
    """What the Slack adapter does for a :pushpin: reaction: find the channel's incident, add a note."""
    inc = await declare(stack, DECLARATION)
    channel = await inc.channel()
    dispatcher = Dispatcher(stack.client, stack.settings.task_queue, stack.settings.session_config())
    key = ConversationKey(platform="webchat", channel=channel, thread="some-message")
    pin = ActionEvent(
        key=key,
        actor=Actor(id="dave", name="dave"),
        action_id="incident.note",
        value="error rate is 40%",
        event_id="reaction-1",
    )
    assert (await dispatcher.incident_action(key, pin)).ephemeral is None
    state = await inc.state()
    assert [(e.actor, e.text) for e in state.timeline if e.kind == "note"] == [("dave", "error rate is 40%")]
    assert await dispatcher.incident_action(ConversationKey(platform="webchat", channel="general"), pin) is None
    noted = await stack.client.get_workflow_handle(inc.workflow_id).execute_update(
        IncidentWorkflow.add_note, pin.model_copy(update={"value": "second pin", "event_id": "reaction-2"})
    )
    assert [e.text for e in noted.timeline if e.kind == "note"] == ["error rate is 40%", "second pin"]
    await stack.client.get_workflow_handle(inc.workflow_id).execute_update(IncidentWorkflow.system_resolve, "test over")
    await inc.result()
    assert await dispatcher.incident_action(key, pin.model_copy(update={"event_id": "reaction-3"})) is None


async def test_explicit_declaration_guesses_severity_and_is_not_duplicated(stack):
    """``/incident <title>`` reaches the session as trigger_workflow: severity from the title, one incident per thread."""
    first = await stack.say("hello")
    await stack.wait_bot_messages(first["thread"], 1)
    handle = stack.client.get_workflow_handle(first["session_id"])
    await handle.signal(
        ChatSessionWorkflow.trigger_workflow, TriggerRequest(workflow_type="IncidentWorkflow", title="checkout is down")
    )
    await eventually(
        lambda: stack.state(first["session_id"]), lambda s: bool(s["triggered_workflows"]), what="the child"
    )
    inc = Incident(stack, first["session_id"], first["thread"], f"{first['session_id']}/incident/1")
    state = await inc.wait_state(lambda s: s.card is not None, "the card")
    assert state.severity == "SEV1"
    await handle.signal(
        ChatSessionWorkflow.trigger_workflow,
        TriggerRequest(workflow_type="IncidentWorkflow", title="checkout still down"),
    )
    await eventually(inc.origin_texts, lambda t: any("already running" in x for x in t), what="pointer")
    assert len((await stack.state(first["session_id"]))["triggered_workflows"]) == 1
    await stack.client.get_workflow_handle(inc.workflow_id).execute_update(IncidentWorkflow.system_resolve, "test over")
    assert (await inc.result()).severity == "SEV1"
