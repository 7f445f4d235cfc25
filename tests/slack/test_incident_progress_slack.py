"""A child's progress on Slack (issue 13): declaring an incident streams its setup into the thread as
``task_update`` chunks of one message (chat.startStream with the recipient fields), which ends with every
task complete and the link to the incident channel, instead of a separate post per milestone."""

from __future__ import annotations

from tests.slack.conftest import slack_stack
from tests.slack.fake_slack import TEAM
from tests.slack.test_incident_slack import incident_of, incident_state, resolve_and_wait
from tests.support.helpers import eventually

DECLARATION = "we have a critical incident: checkout is down"
HANDLED = "is being handled in"


async def test_slack_incident_setup_shows_its_steps_as_tasks_of_one_message_ending_done(client, tmp_path, fake_slack):
    fake = fake_slack
    async with slack_stack(client, tmp_path, fake, incident_responders="UBOB") as (stack, sim):
        root = await sim.mention("C1", "UALICE", DECLARATION)
        workflow_id = await incident_of(stack, f"slack:{TEAM}:C1:{root['ts']}")
        state = await eventually(
            lambda: incident_state(stack, workflow_id), lambda s: s.card is not None, what="the card"
        )
        [progress] = await fake.wait_for(
            lambda: [m for m in fake.posts("C1", thread_ts=root["ts"]) if HANDLED in m["text"]],
            what="the progress message's end",
        )
        channel = state.conversation.channel

        # One stream in the thread, started for the person who declared it.
        [start] = [c for c in fake.calls_to("chat.startStream") if c.params.get("thread_ts") == root["ts"]]
        assert start.params["recipient_user_id"] == "UALICE" and start.params["recipient_team_id"] == TEAM
        assert progress["ts"] != root["ts"] and not progress["streaming"]
        assert any(c.get("type") == "task_update" for c in start.params.get("chunks") or [])

        # Its tasks end done; the message ends with the link, the steps kept under it.
        assert progress["tasks"] == {
            "responders": {"title": "1 responder found", "status": "complete"},
            "channel": {"title": f"Channel #{state.conversation_name} created", "status": "complete"},
            "card": {"title": "Incident card posted", "status": "complete"},
        }
        assert progress["text"] == (
            f'Incident SEV1 "Checkout is down" is being handled in <#{channel}>. Progress will be posted here.'
        )
        context = [b for b in progress["blocks"] if b["type"] == "context"]
        assert context and "✓ Incident card posted" in context[-1]["elements"][0]["text"]
        # No second message says the same thing, and the status line was cleared at the end.
        assert [m["ts"] for m in fake.posts("C1", thread_ts=root["ts"]) if HANDLED in m["text"]] == [progress["ts"]]
        statuses = [s for (ch, ts, s) in fake.statuses if (ch, ts) == ("C1", root["ts"])]
        assert "Setting up the incident…" in statuses and statuses[-1] == ""
        await resolve_and_wait(stack, workflow_id)
