"""Pure parts of incident response: channel names, commands, options, card and postmortem rendering."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from adapters.slack.blocks import message_links as slack_message_links
from adapters.slack.blocks import render as slack_render
from adapters.teams.cards import render_activity
from bots.config import Settings
from workflows.approval import ApprovalRecord
from workflows.contracts import Actor, ConversationKey, Reply, plain_links, user_mention
from workflows.contracts import conversation_link as link_token
from workflows.incident.incident_card import (
    announcement,
    card,
    channel_name,
    conversation_link,
    duration_text,
    postmortem_reply,
    short_title,
    summary_text,
)
from workflows.incident.incident_models import DecisionRecord, IncidentOptions, IncidentState, TimelineEntry
from workflows.incident.incident_routing import parse_incident_command
from workflows.incident.postmortem import render_postmortem

SLACK_NAME = re.compile(r"^[a-z0-9_-]{1,80}$")
T0 = datetime(2026, 11, 26, 1, 30, tzinfo=UTC)


def test_channel_name_is_dated_slugged_and_valid_for_slack():
    assert channel_name("Payments are DOWN!! (EU)", T0) == "inc-20261126-payments-are-down-eu"
    assert channel_name("🔥🔥", T0) == "inc-20261126-incident"
    long = channel_name("checkout " * 30, T0)
    assert SLACK_NAME.match(long) and len(long) <= 40 and not long.endswith("-")
    assert long == "inc-20261126-checkout-checkout-checkout"  # cut at a word boundary
    suffixed = channel_name("checkout " * 30, T0, suffix=3)
    assert SLACK_NAME.match(suffixed) and len(suffixed) <= 40 and suffixed.endswith("-3")
    assert channel_name("x" * 60, T0) == "inc-20261126-" + "x" * 27  # one long word is cut where it must be
    assert channel_name("db_primary failover", T0, suffix=2) == "inc-20261126-db_primary-failover-2"


def test_incident_commands_parse_into_card_actions():
    assert parse_incident_command("incident note restarted the db") == ("incident.note", "restarted the db")
    assert parse_incident_command("/incident note: rolled back") == ("incident.note", "rolled back")
    assert parse_incident_command("Incident severity sev 2") == ("incident.severity", "SEV2")
    assert parse_incident_command("incident sev 1") == ("incident.severity", "SEV1")
    assert parse_incident_command("incident status monitoring") == ("incident.update", "monitoring")
    assert parse_incident_command("incident update error rate back to normal") == (
        "incident.update",
        "error rate back to normal",
    )
    assert parse_incident_command("incident approve Roll back to v1.4.2?") == (
        "incident.approval",
        "Roll back to v1.4.2?",
    )
    assert parse_incident_command("incident resolve") == ("incident.resolve", "")
    assert parse_incident_command("incident take command") == ("incident.take_command", "")
    # Not commands: declarations and verbs without their text.
    assert parse_incident_command("incident: checkout is down") is None
    assert parse_incident_command("incident note") is None
    assert parse_incident_command("we have an incident note here") is None


def test_options_from_settings_and_validation():
    settings = Settings(
        incident_responders="U1, U2 S-oncall", incident_update_interval=60, incident_approval_timeout=30
    )
    options = IncidentOptions.model_validate(settings.child_args()["IncidentWorkflow"])
    assert options.responders == ["U1", "U2", "S-oncall"]
    assert options.update_interval_seconds == 60 and options.approval_timeout_seconds == 30
    assert IncidentOptions.model_validate({"responders": "a,b", "documents": []}).responders == ["a", "b"]
    with pytest.raises(ValidationError):
        IncidentOptions.model_validate({"update_interval_seconds": 0})


def _state() -> IncidentState:
    key = ConversationKey(platform="slack", workspace="T1", channel="C9")
    state = IncidentState(
        title="Checkout | errors",
        severity="SEV1",
        reporter=Actor(id="U1", name="alice"),
        commander=Actor(id="U2", name="bob"),
        responders=["U2"],
        started_at=T0,
        last_update_at=T0 + timedelta(minutes=5),
        conversation=key,
        conversation_name="inc-x",
        origin=key.model_copy(update={"channel": "C1", "thread": "1.1"}),
        status="resolved",
        resolved_at=T0 + timedelta(hours=1, minutes=7),
    )
    state.timeline = [
        TimelineEntry(at=T0, actor="alice", kind="declared", text="Incident declared"),
        TimelineEntry(at=T0 + timedelta(minutes=3), actor="bob", kind="note", text="cache | flushed"),
    ]
    state.approvals = [
        ApprovalRecord(
            approval_id="a1",
            question="Roll back?",
            outcome="approved",
            requested_at=T0,
            decided_by=Actor(id="U2", name="bob"),
            decided_at=T0 + timedelta(minutes=4),
        )
    ]
    state.decisions = [
        DecisionRecord(at=T0 + timedelta(minutes=2), actor_id="U9", action="incident.resolve", allowed=False)
    ]
    return state


def test_card_summary_and_postmortem_render_the_recorded_facts():
    state = _state()
    reply = card(state, "wf-1", T0 + timedelta(hours=2))
    assert "duration 1h 07m" in reply.text and not [b for b in reply.blocks if b.type == "buttons"]
    assert plain_links(conversation_link(state.conversation, "inc-x")) == "#inc-x"
    assert duration_text(timedelta(seconds=42)) == "42s"
    summary = summary_text(state)
    assert "Severity SEV1, duration 1h 07m, commander bob." in summary and "Roll back?: approved by bob" in summary
    md = render_postmortem(state)
    assert md.startswith("# Postmortem (draft): Checkout | errors")
    assert "| Duration | 1h 07m |" in md and "| Reported by | alice |" in md
    assert "cache \\| flushed" in md  # table-safe
    assert "| Roll back? | approved | bob | 01:34:00 |" in md
    assert "| 01:32:00 | U9 | incident.resolve |  | no |" in md
    assert "## Root cause" in md and "## Action items" in md


def test_short_title_drops_the_declaring_words_and_stops_at_a_word():
    assert short_title("we have a critical incident: checkout is down") == "Checkout is down"
    assert short_title("<@U0BOT> Incident - payments failing!") == "Payments failing"
    assert short_title("sev2 incident: search is slow") == "Search is slow"
    # An identifier keeps its case (alert names, regions); a plain first word is capitalised.
    assert short_title("high_memory_load: Server High Memory usage") == "high_memory_load: Server High Memory usage"
    assert short_title("eu-west-1 is down") == "eu-west-1 is down"
    assert short_title("checkout is down") == "Checkout is down"
    assert short_title("we've got an outage in eu-west") == "Outage in eu-west"
    assert short_title("incident") == "Incident"
    long = short_title(
        "There is a major incident with the login page because the identity provider fails every request"
    )
    assert long == "Incident with the login page because the identity provider\u2026" and len(long) <= 60


def test_links_render_per_platform_with_a_plain_fallback():
    slack = ConversationKey(platform="slack", workspace="T1", channel="C42")
    teams = ConversationKey(platform="teams", workspace="tenant-1", channel="19:inc@thread.tacv2;messageid=1700")
    webchat = ConversationKey(platform="webchat", channel="inc-1")
    text = f"in {link_token(slack, 'inc-a')} by {user_mention(Actor(id='U7', name='Ann'))} <now>"
    assert plain_links(text) == "in #inc-a by @Ann <now>"
    [message] = slack_render(Reply(text=text))
    assert message.text == "in <#C42> by <@U7> &lt;now&gt;" and message.blocks[0]["text"]["text"] == message.text
    # A message (a key with a thread) links to its permalink when the platform found one, else to its channel.
    approval = ConversationKey(platform="slack", workspace="T1", channel="C42", thread="1700000000.000100")
    reply = Reply(text=f"approve it on {link_token(approval, 'the approval message')}")
    assert slack_message_links(reply) == [approval]
    url = "https://test.slack.com/archives/C42/p1700000000000100"
    [message] = slack_render(reply, {("C42", "1700000000.000100"): url})
    assert message.text == f"approve it on <{url}|the approval message>"
    assert slack_render(reply)[0].text == "approve it on <#C42>"
    # A web chat id is no Slack user: it stays a name.
    [message] = slack_render(Reply(text=user_mention(Actor(id="web-1f2e", name="Cy"))))
    assert message.text == "@Cy"
    activity = render_activity(Reply(text=f"handled in {link_token(teams, 'inc-b')}"))
    assert activity.text == (
        "handled in [#inc-b](https://teams.microsoft.com/l/message/19%3Ainc%40thread.tacv2/1700?tenantId=tenant-1&parentMessageId=1700)"
    )
    card_activity = render_activity(
        Reply(
            text=f"see {link_token(webchat, 'inc-1')}",
            blocks=[{"type": "text", "text": f"see {link_token(teams, 'x')}"}],
        )
    )
    assert card_activity.summary == "see #inc-1"
    assert "https://teams.microsoft.com/l/message/" in card_activity.attachments[0].content["body"][0]["text"]
    # A label cannot break out of its token.
    assert plain_links(link_token(slack, "a|b\u27e7c")) == "#a/b)c"


def test_announcement_topic_and_postmortem_title_read_as_text():
    state = _state()
    state.conversation_name = "inc-20261126-checkout-errors"
    opened = announcement(state, opened=True)
    assert plain_links(opened.text).startswith(
        "SEV1 incident opened: Checkout | errors \u2014 in #inc-20261126-checkout-errors"
    )
    assert "resolved" not in opened.text.lower()
    assert plain_links(announcement(state, opened=False).text).startswith("Resolved: Checkout | errors (SEV1, 1h 07m)")
    state.postmortem = render_postmortem(state)
    reply = postmortem_reply(state)
    assert reply.blocks[0].style == "heading" and reply.blocks[0].text == "Postmortem (draft): Checkout | errors"
    assert "|---|" not in reply.blocks[0].text and reply.text.startswith(
        "Postmortem (draft): Checkout | errors\n\n| Field | Value |"
    )
