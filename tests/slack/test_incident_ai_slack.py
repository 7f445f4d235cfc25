"""Incident catch-up on Slack: private to the asker (chat.postEphemeral), never posted in the channel."""

from __future__ import annotations

from tests.slack.conftest import slack_stack
from tests.slack.fake_slack import TEAM
from tests.slack.test_incident_slack import DECLARATION, incident_of, incident_state, resolve_and_wait, whispers
from tests.support.helpers import eventually


async def test_slack_catch_up_is_private_to_the_asker(client, tmp_path, fake_slack):
    fake = fake_slack
    fake.add_user("UMAL", "Mallory")
    async with slack_stack(client, tmp_path, fake, incident_responders="UBOB") as (stack, sim):
        root = await sim.mention("C1", "UALICE", DECLARATION)
        workflow_id = await incident_of(stack, f"slack:{TEAM}:C1:{root['ts']}")
        state = await eventually(
            lambda: incident_state(stack, workflow_id), lambda s: s.card is not None, what="the card"
        )
        channel = state.conversation.channel
        posted = len(fake.messages.get(channel, []))

        assert (await sim.command("/incident", "catch up", channel=channel, user="UMAL")).status_code == 200
        told = await fake.wait_for(
            lambda: [t for t in whispers(fake, "UMAL") if t.startswith("Catch-up (no language model")],
            what="the catch-up",
        )
        assert "Checkout is down" in told[0] and "timeline entries" in told[0]
        assert not any(t.startswith("Catch-up") for t in whispers(fake, "UALICE"))
        assert len(fake.messages.get(channel, [])) == posted  # nothing new in the channel
        await resolve_and_wait(stack, workflow_id)
