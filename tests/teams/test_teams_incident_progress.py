"""A child's progress in Teams (issue 13): declaring an incident in a 1:1 chat shows its setup as
informative updates of one stream, closed by one final message that lists every step done and links
the incident's thread; nothing else is posted for the setup."""

from __future__ import annotations

import json

from tests.support.stack import running_stack
from tests.teams.activities import TENANT, activity
from tests.teams.conftest import send
from tests.teams.streaming_support import until as _until
from workflows.incident import IncidentWorkflow

HANDLED = "is being handled in"


async def test_teams_incident_setup_shows_its_steps_in_one_streamed_message_ending_done(client, tmp_path, connector):
    conv = "a:teams-incident-progress"
    async with running_stack(
        client,
        tmp_path,
        teams_enabled=True,
        teams_service_url=connector.url,
        teams_incident_channel_id="19:incidents@thread.tacv2",
    ) as stack:
        body = activity(connector.url, conv, text="critical incident: the database is down")
        assert (await send(stack, body)).status_code == 201

        def progress():
            return [s for s in connector.streams.in_conversation(conv) if s.final and HANDLED in json.dumps(s.final)]

        await _until("the progress message's final message", lambda: bool(progress()))
        [streamed] = progress()
        assert streamed.state == "final"
        # Informative updates while it ran (the status, then steps in progress), no text chunks.
        assert streamed.informative[0] == "Setting up the incident…" and not streamed.chunks
        # The final message lists the steps, all done, above the link.
        card = next(a["content"] for a in streamed.final["attachments"])
        texts = [b.get("text", "") for b in card["body"]]
        incident = stack.client.get_workflow_handle_for(IncidentWorkflow.run, f"teams:{TENANT}:{conv}/incident/1")
        state = await incident.query(IncidentWorkflow.get_incident_state)
        assert "✓ Channel" in texts[0] and "✓ Incident card posted" in texts[0]
        assert HANDLED in texts[1]
        # The thread is not told a second time in a post of its own.
        told = [p for p in connector.posts(conv) if HANDLED in p.searchable()]
        assert len(told) == 1 and told[0].body == streamed.final
        assert state.conversation.channel.startswith("19:incidents@thread.tacv2")
