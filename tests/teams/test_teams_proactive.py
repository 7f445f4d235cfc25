"""Proactive posts: a child workflow posts into the conversation after the gateway and
worker restarted; incident threads and private messages go through the connector."""

from __future__ import annotations

import asyncio
import contextlib

import pytest
from temporalio.service import RPCError

from adapters.posted_log import SqlitePostedLog
from adapters.teams.platform import TeamsPlatform
from tests.support.stack import running_stack
from tests.teams.activities import TENANT, activity
from tests.teams.conftest import send
from workflows.contracts import ConversationKey, Reply
from workflows.incident import IncidentWorkflow

INCIDENT_CHANNEL = "19:incidents@thread.tacv2"


def incident_channel_stack(client, tmp_path, connector):
    """A running stack with Teams on the fake connector and an incident channel configured."""
    return running_stack(
        client,
        tmp_path,
        teams_enabled=True,
        teams_service_url=connector.url,
        teams_incident_channel_id=INCIDENT_CHANNEL,
    )


async def test_child_posts_into_conversation_after_gateway_and_worker_restart(client, tmp_path, connector):
    conv = "19:ops@thread.tacv2;messageid=77"
    settings = {"teams_enabled": True, "teams_service_url": connector.url}
    async with running_stack(client, tmp_path, **settings) as first:
        task_queue = first.settings.task_queue
        body = activity(
            connector.url, conv, text="critical incident: the database is down", conversation_type="channel"
        )
        assert (await send(first, body)).status_code == 201
        # Without TEAMS_INCIDENT_CHANNEL_ID the incident runs in the conversation that declared it.
        [card_post] = await connector.wait_for(
            lambda: [p for p in connector.posts(conv) if p.card and p.card["fallbackText"].startswith("Incident SEV1")],
            1,
        )
        # Stop only once Temporal has recorded the card post as done (the connector saw it first).
        incident = first.client.get_workflow_handle_for(IncidentWorkflow.run, f"teams:{TENANT}:{conv}/incident/1")
        for _ in range(400):
            if (await incident.query(IncidentWorkflow.get_incident_state)).card is not None:
                break
            await asyncio.sleep(0.05)
        else:
            raise AssertionError("the incident card post never completed")
    # Both processes are gone; a new gateway + worker (fresh Teams adapter, empty caches)
    # serve the same task queue and data dir.
    async with running_stack(client, tmp_path, task_queue=task_queue, **settings) as second:
        incident = second.client.get_workflow_handle_for(IncidentWorkflow.run, f"teams:{TENANT}:{conv}/incident/1")
        await incident.execute_update(IncidentWorkflow.system_resolve, "the monitor cleared")
        result = await incident.result()
        [resolution] = [p for p in connector.posts(conv) if "Incident resolved: The database is down" in p.searchable()]
        assert resolution.body["conversation"]["id"] == conv
        # The card is updated in place (the other updated message is the setup's progress message).
        updates = await connector.wait_for(
            lambda: [u for u in connector.updates(conv) if u.activity_id == card_post.new_id], 1
        )
        assert not [p for p in connector.posts(conv) if p.card and p.card["fallbackText"].startswith("Incident SEV1")][
            1:
        ]
        assert "status resolved" in updates[-1].card["fallbackText"]
        assert result.status == "resolved"


async def test_incident_thread_opens_in_configured_channel(client, tmp_path, connector):
    async with incident_channel_stack(client, tmp_path, connector) as stack:
        origin_conv = "a:origin-chat"
        assert (await send(stack, activity(connector.url, origin_conv, text="hello"))).status_code == 201
        await connector.wait_for(lambda: connector.posts(origin_conv), 1)
        origin = await stack.state(f"teams:{TENANT}:{origin_conv}")
        teams_platform = stack.platforms.registry.get("teams")
        like = ConversationKey.model_validate(origin["key"])

        key = await teams_platform.create_channel("inc-payments", topic="SEV1: payments are down", like=like)
        [created] = connector.created
        assert created["body"]["channelData"]["channel"]["id"] == "19:incidents@thread.tacv2"
        assert created["body"]["isGroup"] is True
        assert "inc-payments" in created["body"]["activity"]["text"]
        assert key.platform == "teams" and key.workspace == TENANT
        assert key.channel.startswith("19:incidents@thread.tacv2;messageid=")
        assert key.session_id() == f"teams:{TENANT}:{key.channel}"

        # The new thread is the incident's conversation: posts go there with the origin's reference.
        ref = await teams_platform.post(key, Reply(text="Timeline starts here"), context=origin["reply_context"])
        [post] = connector.posts(key.channel)
        assert post.text == "Timeline starts here" and post.activity_id is None
        assert ref.key == key and ref.message_id == post.new_id


async def test_without_incident_channel_create_channel_explains(teams, connector):
    from adapters.base import PlatformError

    platform = teams.platforms.registry.get("teams")
    with pytest.raises(PlatformError, match="TEAMS_INCIDENT_CHANNEL_ID"):
        await platform.create_channel("inc-x", like=ConversationKey(platform="teams", workspace=TENANT, channel="a:x"))
    assert connector.created == []


async def test_retried_post_with_same_idempotency_key_posts_once(teams, connector):
    conv = "a:retry-chat"
    assert (await send(teams, activity(connector.url, conv, text="hello"))).status_code == 201
    await connector.wait_for(lambda: connector.posts(conv), 1)
    state = await teams.state(f"teams:{TENANT}:{conv}")
    key = ConversationKey.model_validate(state["key"])
    platform = teams.platforms.registry.get("teams")
    first = await platform.post(key, Reply(text="once"), idempotency_key="wf#run#7", context=state["reply_context"])
    again = await platform.post(key, Reply(text="once"), idempotency_key="wf#run#7", context=state["reply_context"])
    assert again == first
    assert [p.text for p in connector.posts(conv)].count("once") == 1

    # A worker restarted in between (a new platform on the same data dir) still knows the post.
    log = SqlitePostedLog(teams.settings.data_dir / "teams-posted.sqlite3")
    await log.open()
    try:
        restarted = TeamsPlatform(
            platform.adapter, posted=log, app_id=platform.app_id, service_url=platform.default_service_url
        )
        after_restart = await restarted.post(
            key, Reply(text="once"), idempotency_key="wf#run#7", context=state["reply_context"]
        )
    finally:
        await log.close()
    assert after_restart == first
    assert [p.text for p in connector.posts(conv)].count("once") == 1


async def test_post_without_any_reference_or_service_url_is_refused(teams, connector):
    from adapters.base import PlatformError

    platform = teams.platforms.registry.get("teams")
    platform.default_service_url = ""
    with pytest.raises(PlatformError, match="serviceUrl") as refused:
        await platform.post(ConversationKey(platform="teams", workspace="t9", channel="a:unknown"), Reply(text="x"))
    assert not refused.value.retryable


async def test_incident_declared_in_a_chat_runs_in_a_new_thread_of_the_incident_channel(client, tmp_path, connector):
    async with incident_channel_stack(client, tmp_path, connector) as stack:
        origin_conv = "a:declaring-chat"
        body = activity(connector.url, origin_conv, text="we have a critical incident: payments are down")
        assert (await send(stack, body)).status_code == 201
        [created] = await connector.wait_for(lambda: connector.created, 1)
        assert created["body"]["channelData"]["channel"]["id"] == "19:incidents@thread.tacv2"
        incident = stack.client.get_workflow_handle_for(
            IncidentWorkflow.run, f"teams:{TENANT}:{origin_conv}/incident/1"
        )
        for _ in range(400):
            state = await incident.query(IncidentWorkflow.get_incident_state)
            if state.card is not None:
                break
            await asyncio.sleep(0.05)
        else:
            raise AssertionError("the incident card was never posted")
        thread = state.conversation.channel
        assert thread.startswith("19:incidents@thread.tacv2;messageid=")

        # The card lives in the new thread; the chat that declared it gets a pointer, not the card.
        def incident_cards(conversation: str) -> list:
            return [
                p
                for p in connector.posts(conversation)
                if p.card and any(e["type"] == "FactSet" for e in p.card["body"])
            ]

        assert len(incident_cards(thread)) == 1
        assert incident_cards(origin_conv) == []
        [pointer] = await connector.wait_for(
            lambda: [p for p in connector.posts(origin_conv) if "is being handled in" in p.searchable()], 1
        )
        # A deep link that opens the incident thread (Teams has no inline channel syntax).
        message_id = thread.split(";messageid=")[1]
        shown = " ".join(e.get("text", "") for e in pointer.card["body"])
        assert (
            "[#inc-" in shown
            and f"](https://teams.microsoft.com/l/message/19%3Aincidents%40thread.tacv2/{message_id}?" in shown
        )
        assert "\u27e6" not in shown + pointer.searchable() and "#inc-" in pointer.searchable()
        await incident.execute_update(IncidentWorkflow.system_resolve, "test over")


async def test_incident_catch_up_from_teams_is_a_private_1to1_chat(client, tmp_path, connector):
    """`incident catch up` in the declaring chat goes to the asker alone (a new 1:1 chat), not the thread."""
    async with incident_channel_stack(client, tmp_path, connector) as stack:
        origin_conv = "19:war-room@thread.v2"
        declared = activity(
            connector.url,
            origin_conv,
            text="we have a critical incident: payments are down",
            conversation_type="groupChat",
        )
        assert (await send(stack, declared)).status_code == 201
        incident = stack.client.get_workflow_handle_for(
            IncidentWorkflow.run, f"teams:{TENANT}:{origin_conv}/incident/1"
        )
        for _ in range(1200):  # bounded: 60 s
            with contextlib.suppress(RPCError):  # the session starts the incident a moment after the message
                if (await incident.query(IncidentWorkflow.get_incident_state)).card is not None:
                    break
            await asyncio.sleep(0.05)
        else:
            raise AssertionError("the incident card was never posted")
        before = len(connector.posts(origin_conv))

        ask = activity(
            connector.url,
            origin_conv,
            text="incident catch up",
            user="29:carol",
            user_name="Carol",
            conversation_type="groupChat",
        )
        assert (await send(stack, ask)).status_code == 201

        def private_catch_ups() -> list:
            return [
                c
                for c in connector.created
                if not c["body"].get("isGroup")
                and [m["id"] for m in c["body"].get("members", [])] == ["29:carol"]
                and str((c["body"].get("activity") or {}).get("text", "")).startswith("Catch-up")
            ]

        [catch_up] = await connector.wait_for(private_catch_ups, 1)
        assert "no language model" in catch_up["body"]["activity"]["text"]  # no model configured: labelled
        # Nothing about it in the group chat: the catch-up was for Carol alone.
        await asyncio.sleep(1.0)
        assert not any("Catch-up" in p.searchable() for p in connector.posts(origin_conv)[before:])
        await incident.execute_update(IncidentWorkflow.system_resolve, "test over")
