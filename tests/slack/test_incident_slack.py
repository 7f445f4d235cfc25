"""Incident response end to end on Slack: signed events into the real gateway, a fake Slack Web API out."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from temporalio.service import RPCError

from tests.slack.conftest import slack_stack
from tests.slack.fake_slack import TEAM, permalink
from tests.slack.support import new_ts
from tests.support.helpers import eventually
from workflows.incident import IncidentWorkflow
from workflows.incident.incident_models import IncidentState

SLACK_CHANNEL_NAME = re.compile(r"^[a-z0-9_-]{1,80}$")
DECLARATION = "we have a critical incident: checkout is down"


def actions(message: dict) -> list[str]:
    return [el["text"]["text"] for b in message["blocks"] if b["type"] == "actions" for el in b["elements"]]


def whispers(fake, user: str) -> list[str]:
    """What ``user`` was told privately (chat.postEphemeral or the interaction's response_url)."""
    direct = [e["text"] for e in fake.ephemeral if e.get("user") == user]
    return direct + [r.get("text", "") for r in fake.responses if r.get("response_type") == "ephemeral"]


async def incident_of(stack, session_id: str) -> str:
    async def probe() -> dict:
        try:
            return await stack.state(session_id)
        except RPCError:  # the session has not started yet
            return {"triggered_workflows": []}

    state = await eventually(probe, lambda s: bool(s["triggered_workflows"]), what="the incident child")
    return state["triggered_workflows"][0]["workflow_id"]


async def incident_state(stack, workflow_id: str) -> IncidentState:
    return await stack.client.get_workflow_handle(workflow_id).query(IncidentWorkflow.get_incident_state)


async def resolve_and_wait(stack, workflow_id: str) -> IncidentState:
    """End a test's incident completely (its channel link closes with it)."""
    await stack.client.get_workflow_handle(workflow_id).execute_update(IncidentWorkflow.system_resolve, "test over")
    return await stack.client.get_workflow_handle_for(IncidentWorkflow.run, workflow_id).result()


async def test_slack_incident_channel_card_refusal_and_resolution(client, tmp_path, fake_slack):
    fake = fake_slack
    fake.add_user("UMAL", "Mallory")
    async with slack_stack(
        client, tmp_path, fake, incident_responders="UBOB", incident_announce_channels="slack=CINCIDENTS"
    ) as (stack, sim):
        root = await sim.mention("C1", "UALICE", DECLARATION)
        session_id = f"slack:{TEAM}:C1:{root['ts']}"
        workflow_id = await incident_of(stack, session_id)

        # conversations.create with a short, dated name; topic set; reporter and responder invited.
        create = (await fake.wait_for(lambda: fake.calls_to("conversations.create"), what="conversations.create"))[0]
        name = create.params["name"]
        today = datetime.now(UTC).strftime("%Y%m%d")
        assert name == f"inc-{today}-checkout-is-down" and SLACK_CHANNEL_NAME.match(name) and len(name) < 40
        [channel] = [cid for cid, c in fake.channels.items() if c["name"] == name]
        invited = await fake.wait_for(lambda: fake.calls_to("conversations.invite"), what="invite")
        assert set(invited[0].params["users"].split(",")) == {"UALICE", "UBOB"}
        assert "UALICE" in fake.channels[channel]["members"]
        assert fake.channels[channel]["topic"] == "SEV1 \u00b7 investigating \u00b7 Checkout is down"
        assert (await incident_state(stack, workflow_id)).title == "Checkout is down"

        # The card with its buttons is posted in the new channel and pinned.
        card = (await fake.wait_for(lambda: [m for m in fake.posts(channel) if actions(m)], what="the card"))[0]
        assert actions(card) == [
            "Take command",
            "Change severity",
            "Post update",
            "Resolve",
            "Catch up",
            "Draft update",
        ]
        await fake.wait_for(lambda: (channel, card["ts"]) in fake.pins, what="the pin")
        # The origin thread links the channel the way Slack draws a channel link: <#C…>.
        [link] = await fake.wait_for(
            lambda: [m for m in fake.posts("C1", thread_ts=root["ts"]) if f"<#{channel}>" in m["text"]], what="the link"
        )
        assert (
            link["text"]
            == f'Incident SEV1 "Checkout is down" is being handled in <#{channel}>. Progress will be posted here.'
        )
        assert f"<#{channel}>" in link["blocks"][0]["text"]["text"]
        # The incidents channel is told, with the link and the severity.
        [opened] = await fake.wait_for(lambda: fake.posts("CINCIDENTS"), what="the announcement")
        assert opened["text"].startswith("SEV1 incident opened: Checkout is down") and f"<#{channel}>" in opened["text"]

        # An outsider clicks Resolve: refused privately, the card is unchanged.
        before = dict(card)
        assert (await sim.click(card, 3, user="UMAL")).status_code == 200
        await fake.wait_for(lambda: any("not authorized" in t for t in whispers(fake, "UMAL")), what="the refusal")
        state = await incident_state(stack, workflow_id)
        assert state.status == "investigating"
        assert [(d.actor_id, d.allowed) for d in state.decisions] == [("UMAL", False)]
        assert not [c for c in fake.calls_to("chat.update") if c.params.get("ts") == card["ts"]]
        assert card["blocks"] == before["blocks"] and not card.get("edited")

        # The commander changes the severity by typing in the origin thread: the answer says so, the topic follows.
        await sim.mention("C1", "UALICE", "incident severity sev2", thread_ts=root["ts"])
        await fake.wait_for(
            lambda: fake.channels[channel]["topic"].startswith("SEV2 \u00b7 investigating"), what="the topic"
        )
        await fake.wait_for(
            lambda: any(m["text"] == "The severity is now SEV2." for m in fake.posts("C1", thread_ts=root["ts"])),
            what="the outcome",
        )
        assert [c.params["topic"] for c in fake.calls_to("conversations.setTopic")][
            -1
        ] == "SEV2 \u00b7 investigating \u00b7 Checkout is down"
        # An approval asked in the origin thread answers with a link to where its buttons are.
        await sim.mention("C1", "UALICE", "incident approve roll back checkout to v41?", thread_ts=root["ts"])
        [asked] = await fake.wait_for(
            lambda: [m for m in fake.posts("C1", thread_ts=root["ts"]) if m["text"].startswith("Approval requested")],
            what="the answer",
        )
        [buttons] = [
            m
            for m in fake.posts(channel)
            if "roll back checkout to v41?" in m["text"] and actions(m) == ["Approve", "Reject"]
        ]
        # The link opens the message that holds the buttons (its chat.getPermalink URL), not just the channel.
        approval_link = f"<{permalink(channel, buttons['ts'])}|the approval message>"
        assert (
            asked["text"]
            == f'Approval requested: "roll back checkout to v41?". Approve or Reject it on {approval_link}.'
        )
        assert approval_link in asked["blocks"][0]["text"]["text"]

        # The commander (the reporter) clicks Resolve.
        assert (await sim.click(card, 3, user="UALICE")).status_code == 200
        result = await stack.client.get_workflow_handle_for(IncidentWorkflow.run, workflow_id).result()
        assert result.status == "resolved" and result.commander.id == "UALICE"
        updates = [c for c in fake.calls_to("chat.update") if c.params.get("ts") == card["ts"]]
        assert updates and card.get("edited") and actions(card) == []
        assert "resolved" in card["text"]
        origin_texts = [m["text"] for m in fake.posts("C1", thread_ts=root["ts"])]
        assert any(t.startswith("Incident resolved: ") and "duration" in t for t in origin_texts)
        channel_texts = [m["text"] for m in fake.posts(channel)]
        assert any("Postmortem (draft)" in t for t in channel_texts)
        assert len([m for m in fake.posts(channel) if m["ts"] == card["ts"]]) == 1  # updated, never re-posted
        # The postmortem's title is a heading, not Markdown; the topic and the incidents channel say it is resolved.
        [postmortem] = [m for m in fake.posts(channel) if m["text"].startswith("Postmortem (draft)")]
        assert postmortem["blocks"][0] == {
            "type": "header",
            "text": {"type": "plain_text", "text": "Postmortem (draft): Checkout is down", "emoji": True},
        }
        assert fake.channels[channel]["topic"] == "SEV2 \u00b7 resolved \u00b7 Checkout is down"
        resolved = await fake.wait_for(lambda: fake.posts("CINCIDENTS")[1:], what="the resolved announcement")
        assert (
            resolved[0]["text"].startswith("Resolved: Checkout is down (SEV2, ")
            and f"<#{channel}>" in resolved[0]["text"]
        )
        every = [m["text"] for c in list(fake.messages) for m in fake.posts(c)]
        assert not [t for t in every if "/incident/" in t or session_id in t]  # no workflow ids in any message


async def test_slack_name_taken_gets_a_suffix(client, tmp_path, fake_slack):
    fake = fake_slack
    today = datetime.now(UTC).strftime("%Y%m%d")
    taken = f"inc-{today}-search-is-slow"
    fake.channels["CTAKEN"] = {"id": "CTAKEN", "name": taken, "topic": "", "members": []}
    async with slack_stack(client, tmp_path, fake) as (stack, sim):
        root = await sim.mention("C1", "UALICE", "sev2 incident: search is slow")
        workflow_id = await incident_of(stack, f"slack:{TEAM}:C1:{root['ts']}")
        state = await eventually(
            lambda: incident_state(stack, workflow_id), lambda s: s.card is not None, what="the card"
        )
        names = [c.params["name"] for c in fake.calls_to("conversations.create")]
        assert names[0] == taken and names[-1] == f"{taken}-2" and all(SLACK_CHANNEL_NAME.match(n) for n in names)
        assert (
            state.conversation.channel != "CTAKEN" and fake.channels[state.conversation.channel]["name"] == f"{taken}-2"
        )
        assert state.conversation_name == f"{taken}-2"  # the name Slack gave, not the one asked for
        assert any(e.text == f"Incident conversation opened: #{taken}-2" for e in state.timeline)
        await resolve_and_wait(stack, workflow_id)


async def test_slack_refused_conversations_create_runs_in_the_origin_thread(client, tmp_path, fake_slack):
    fake = fake_slack
    fake.fail("conversations.create", "error", times=10, error="restricted_action")
    async with slack_stack(client, tmp_path, fake) as (stack, sim):
        root = await sim.mention("C1", "UALICE", DECLARATION)
        workflow_id = await incident_of(stack, f"slack:{TEAM}:C1:{root['ts']}")
        state = await eventually(
            lambda: incident_state(stack, workflow_id), lambda s: s.card is not None, what="the card"
        )
        assert "restricted_action" in state.fallback_reason and state.conversation == state.origin
        assert fake.channels == {}
        # The setup's progress message ends with why (after the card, its last step).
        thread = await fake.wait_for(
            lambda: (
                [
                    m
                    for m in fake.posts("C1", thread_ts=root["ts"])
                    if m["text"].startswith("I couldn't open an incident channel") and "restricted_action" in m["text"]
                ]
                and fake.posts("C1", thread_ts=root["ts"])
            ),
            what="the fallback note",
        )
        card = next(m for m in thread if actions(m))
        assert actions(card) == [
            "Take command",
            "Change severity",
            "Post update",
            "Resolve",
            "Catch up",
            "Draft update",
        ]
        assert (await sim.click(card, 3, user="UALICE")).status_code == 200
        result = await stack.client.get_workflow_handle_for(IncidentWorkflow.run, workflow_id).result()
        assert result.status == "resolved"
        texts = [m["text"] for m in fake.posts("C1", thread_ts=root["ts"])]
        assert any(t.startswith("Incident resolved: ") for t in texts) and any("Postmortem (draft)" in t for t in texts)


async def test_slack_pushpin_and_incident_subcommands_feed_the_timeline(client, tmp_path, fake_slack):
    fake = fake_slack
    fake.add_user("UMAL", "Mallory")
    async with slack_stack(client, tmp_path, fake, incident_responders="UBOB") as (stack, sim):
        root = await sim.mention("C1", "UALICE", DECLARATION)
        workflow_id = await incident_of(stack, f"slack:{TEAM}:C1:{root['ts']}")
        state = await eventually(
            lambda: incident_state(stack, workflow_id), lambda s: s.card is not None, what="the card"
        )
        channel = state.conversation.channel

        # Someone writes in the incident channel; Bob pins it with :pushpin:.
        said = {
            "ts": new_ts(),
            "channel": channel,
            "text": "p99 latency is 4s on checkout-api",
            "user": "UMAL",
            "blocks": [],
        }
        fake.messages.setdefault(channel, []).append(said)
        reaction = {
            "type": "reaction_added",
            "user": "UBOB",
            "reaction": "pushpin",
            "item": {"type": "message", "channel": channel, "ts": said["ts"]},
            "event_ts": new_ts(),
        }
        assert (await sim.event(reaction)).status_code == 200
        assert (await sim.event({**reaction, "reaction": "eyes"})).status_code == 200  # other reactions do nothing
        state = await eventually(
            lambda: incident_state(stack, workflow_id),
            lambda s: any(e.kind == "note" for e in s.timeline),
            what="the pinned note",
        )
        assert [(e.actor, e.text) for e in state.timeline if e.kind == "note"] == [
            ("Bob", "p99 latency is 4s on checkout-api")
        ]

        # /incident note works for anyone in the channel; changes need authorization.
        assert (
            await sim.command("/incident", "note rolled back the config", channel=channel, user="UMAL")
        ).status_code == 200
        await fake.wait_for(lambda: any("timeline" in t for t in whispers(fake, "UMAL")), what="note ack")
        assert (await sim.command("/incident", "severity sev2", channel=channel, user="UMAL")).status_code == 200
        await fake.wait_for(lambda: any("not authorized" in t for t in whispers(fake, "UMAL")), what="refusal")
        assert (await sim.command("/incident", "severity sev2", channel=channel, user="UBOB")).status_code == 200
        state = await eventually(
            lambda: incident_state(stack, workflow_id), lambda s: s.severity == "SEV2", what="severity"
        )
        assert [e.text for e in state.timeline if e.kind == "note"] == [
            "p99 latency is 4s on checkout-api",
            "rolled back the config",
        ]
        # Outside an incident channel the subcommand says so instead of declaring "note ..." as an incident.
        assert (await sim.command("/incident", "note hello", channel="C1", user="UALICE")).status_code == 200
        await fake.wait_for(
            lambda: any("No incident is running in this channel" in t for t in whispers(fake, "UALICE")),
            what="no incident",
        )
        await resolve_and_wait(stack, workflow_id)


async def test_slack_conversations_create_failing_after_retries_falls_back(client, tmp_path, fake_slack):
    """A failure that might pass is retried (3 attempts by default), then the incident stays in the thread."""
    fake = fake_slack
    fake.fail("conversations.create", "error", times=10, error="internal_error")
    async with slack_stack(client, tmp_path, fake) as (stack, sim):
        root = await sim.mention("C1", "UALICE", DECLARATION)
        workflow_id = await incident_of(stack, f"slack:{TEAM}:C1:{root['ts']}")
        state = await eventually(
            lambda: incident_state(stack, workflow_id), lambda s: s.card is not None, what="the card"
        )
        assert len(fake.calls_to("conversations.create")) == 3
        assert "internal_error" in state.fallback_reason and state.conversation == state.origin
        await fake.wait_for(
            lambda: any("internal_error" in m["text"] for m in fake.posts("C1", thread_ts=root["ts"])),
            what="the fallback note",
        )
        await resolve_and_wait(stack, workflow_id)


async def test_slack_responder_user_group_members_are_invited_and_authorized(client, tmp_path, fake_slack):
    fake = fake_slack
    fake.add_user("UCAROL", "Carol")
    fake.usergroups["S0ONCALL"] = ["UBOB", "UCAROL"]
    async with slack_stack(client, tmp_path, fake, incident_responders="S0ONCALL") as (stack, sim):
        root = await sim.mention("C1", "UALICE", DECLARATION)
        workflow_id = await incident_of(stack, f"slack:{TEAM}:C1:{root['ts']}")

        # The group is asked for its members; they are invited, not the group id.
        invited = await fake.wait_for(lambda: fake.calls_to("conversations.invite"), what="invite")
        assert set(invited[0].params["users"].split(",")) == {"UALICE", "UBOB", "UCAROL"}
        assert [c.params["usergroup"] for c in fake.calls_to("usergroups.users.list")] == ["S0ONCALL"]
        state = await incident_state(stack, workflow_id)
        assert state.responders == ["UBOB", "UCAROL"]

        # A member of the group (not the commander) may resolve.
        [channel] = [cid for cid, c in fake.channels.items() if c["name"].startswith("inc-")]
        card = (await fake.wait_for(lambda: [m for m in fake.posts(channel) if actions(m)], what="the card"))[0]
        assert (await sim.click(card, 3, user="UCAROL")).status_code == 200
        result = await stack.client.get_workflow_handle_for(IncidentWorkflow.run, workflow_id).result()
        assert result.status == "resolved"
        assert [(d.actor_id, d.allowed) for d in result.decisions][-1] == ("UCAROL", True)
