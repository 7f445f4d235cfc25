"""Socket Mode (SLACK_APP_TOKEN): no public URL; events arrive over a websocket that the gateway opens.

The fake Slack answers apps.connections.open with a websocket on 127.0.0.1 and pushes
envelopes through it, as Slack does; the real slack.com handshake cannot run here.
"""

from __future__ import annotations

import json

from tests.slack.conftest import slack_stack
from tests.slack.fake_slack import BOT_USER


async def test_socket_mode_is_chosen_and_carries_events_and_commands(client, tmp_path, fake_slack):
    async with slack_stack(client, tmp_path, fake_slack, slack_app_token="xapp-1-test") as (stack, sim):
        routes = stack.platforms.adapters["slack"].routes
        assert routes.socket_mode is True
        assert (await stack.http.post("/slack/events", content=b"{}")).status_code in (404, 405)  # no public route
        await fake_slack.wait_for(lambda: fake_slack.sockets, what="the Socket Mode connection")
        assert fake_slack.calls_to("apps.connections.open")[0].token == "xapp-1-test"

        event = sim.message("C1", "UALICE", f"<@{BOT_USER}> hello over a socket", kind="app_mention")
        await fake_slack.send_envelope("events_api", json.loads(sim.envelope(event)), "env-1")
        reply = await fake_slack.wait_for(lambda: fake_slack.posts("C1", event["ts"]), what="the reply")
        assert "message 1" in reply[0]["text"]
        assert {"envelope_id": "env-1"} in fake_slack.socket_acks

        command = {
            "team_id": "T1",
            "channel_id": "C1",
            "user_id": "UALICE",
            "command": "/threadwork",
            "text": "help",
            "response_url": f"{fake_slack.url}/response/1",
            "trigger_id": "t1",
            "api_app_id": "A1",
        }
        await fake_slack.send_envelope("slash_commands", command, "env-2")
        ack = await fake_slack.wait_for(
            lambda: [a for a in fake_slack.socket_acks if a.get("envelope_id") == "env-2"], what="the command ack"
        )
        assert "I'm threadwork" in ack[0]["payload"]["text"]
    assert routes.socket_handler is None  # closed with the gateway


async def test_http_mode_without_app_token(slack):
    stack, _sim = slack
    routes = stack.platforms.adapters["slack"].routes
    assert routes.socket_mode is False and routes.socket_handler is None
