"""IncidentWorkflow on the real dev server, driven through the web chat (gateway + worker)."""

from __future__ import annotations

from datetime import datetime, timezone

from temporalio.client import WorkflowExecutionStatus

from tests.support.helpers import eventually
from tests.support.incident_chat import buttons, declare, fields
from tests.support.stack import running_stack

DECLARATION = "we have a critical incident: payments are down"


async def test_channel_card_authorization_changes_and_resolve_with_postmortem(client, tmp_path):
    async with running_stack(client, tmp_path, incident_responders="bob, carol") as stack:
        inc = await declare(stack, DECLARATION)
        card = await inc.card()
        state = await inc.state()
        today = datetime.now(timezone.utc).strftime("%Y%m%d")
        assert state.conversation_name == f"inc-{today}-we-have-a-critical-incident-payments-are-down"
        assert card["channel"] == state.conversation.channel == state.conversation_name
        assert state.responders == ["bob", "carol"] and state.commander.id == "alice" and state.severity == "SEV1"
        assert buttons(card) == [["Take command", "Change severity", "Post update", "Resolve"]]
        assert fields(card)["Status"] == "investigating" and fields(card)["Commander"] == "alice"
        assert {"Severity", "Started", "Duration", "Last update"} <= set(fields(card))
        origin = await eventually(inc.origin_texts, lambda t: any(state.conversation_name in x for x in t), what="link")
        assert any(f"#{state.conversation_name}" in t for t in origin)

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
        assert fields(card)["Commander"] == "bob"
        # The reporter is no longer in command and not a responder: refused.
        assert "not authorized" in (await inc.click("incident.severity", "alice"))["ephemeral"]

        # Change severity: the picker row appears on the same card, then SEV2 is chosen.
        await inc.click("incident.severity", "bob")
        card = await inc.card()
        assert buttons(card)[1] == ["SEV2", "SEV3", "SEV4", "Cancel"]
        await inc.click("incident.severity", "bob", value="SEV2")
        card = await inc.card()
        assert fields(card)["Severity"] == "SEV2" and len(buttons(card)) == 1
        await eventually(inc.origin_texts, lambda t: any("severity SEV1 -> SEV2 (bob)" in x for x in t), what="severity progress")

        # Post update -> status picker -> identified; progress goes back to the origin thread.
        await inc.click("incident.update", "carol")
        assert buttons(await inc.card())[1] == ["Identified", "Monitoring", "Cancel"]
        await inc.click("incident.update", "carol", value="identified")
        assert fields(await inc.card())["Status"] == "identified"
        await eventually(inc.origin_texts, lambda t: any("status investigating -> identified (carol)" in x for x in t), what="status progress")

        # Anyone may add a note from the incident conversation.
        note = await stack.say("incident note restarted the primary database", channel=inc_channel(state), user="dave")
        await stack.wait_bot_messages(note["thread"], 1, channel=inc_channel(state))
        assert "timeline" in (await stack.bot_messages(note["thread"], inc_channel(state)))[0]["text"]
        state = await inc.wait_state(lambda s: any(e.kind == "note" for e in s.timeline), "the note")
        assert [e.text for e in state.timeline if e.kind == "note"] == ["restarted the primary database"]

        await inc.click("incident.resolve", "bob")
        result = await inc.result()
        assert result.status == "resolved" and result.resolved_at is not None
        assert [e.kind for e in result.timeline] == ["declared", "channel", "command", "severity", "status", "note", "resolved"]
        assert result.postmortem.startswith("# Postmortem (draft): " + DECLARATION)
        assert "| Severity | SEV2 |" in result.postmortem and "restarted the primary database" in result.postmortem
        assert "| mallory | incident.resolve | " in result.postmortem
        final = await inc.card()
        assert final["id"] == card["id"] and buttons(final) == [] and fields(final)["Status"] == "resolved"
        cards = [m for m in await stack.store.messages(inc_channel(state)) if m["text"].startswith("Incident SEV")]
        assert len(cards) == 1  # updated in place, never re-posted
        channel_texts = await inc.channel_texts()
        assert any(t.startswith("Incident resolved: ") and "duration" in t for t in channel_texts)
        assert channel_texts[-1].startswith("# Postmortem (draft)")
        origin = await inc.origin_texts()
        assert any(t.startswith("Incident resolved: ") and "Timeline:" in t and "Decisions:" in t for t in origin)
        session = await stack.state(inc.session_id)
        assert session["triggered_workflows"][0]["status"] == "resolved"
        link = await client.get_workflow_handle(f"incident-link:webchat::{state.conversation.channel}").describe()
        assert link.status == WorkflowExecutionStatus.CANCELED


def inc_channel(state) -> str:
    return state.conversation.channel
