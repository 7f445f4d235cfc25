"""Adaptive Card clicks (Action.Execute invokes and Action.Submit messages) reach their workflow."""

from __future__ import annotations

from tests.teams.activities import TENANT, activity, execute, submit
from tests.teams.conftest import send
from workflows.incident import IncidentWorkflow


async def declare_incident(stack, connector, conv: str):
    """Start an incident from a message; return the posted incident card's call."""
    body = activity(connector.url, conv, text="we have a critical incident: payments are down")
    assert (await send(stack, body)).status_code == 201
    # Without TEAMS_INCIDENT_CHANNEL_ID the incident runs in the conversation that declared it.
    [card_post] = await connector.wait_for(
        lambda: [p for p in connector.posts(conv) if p.card and p.card["fallbackText"].startswith("Incident SEV")], 1
    )
    return card_post


def resolve_data(card: dict) -> dict:
    [action_set] = [e for e in card["body"] if e["type"] == "ActionSet"]
    [action] = [a for a in action_set["actions"] if a.get("verb") == "incident.resolve"]
    assert action["type"] == "Action.Execute"
    assert action["fallback"]["type"] == "Action.Submit" and action["fallback"]["data"] == action["data"]
    return action["data"]


async def test_execute_click_reaches_workflow_with_clicker_and_updates_card(teams, connector):
    conv = "a:incident-chat-1"
    card_post = await declare_incident(teams, connector, conv)
    card = card_post.card
    assert card["version"] == "1.5"
    # The commander is a real @mention (an entity with Alice's Teams id), not a bold name.
    commander = next(
        f["value"] for e in card["body"] if e["type"] == "FactSet" for f in e["facts"] if f["title"] == "Commander"
    )
    mention = {"type": "mention", "text": commander, "mentioned": {"id": "29:alice", "name": commander[4:-5]}}
    assert commander.startswith("<at>") and mention in card["msteams"]["entities"]
    assert {e["type"] for e in card["body"]} >= {"TextBlock", "FactSet", "ActionSet"}
    data = resolve_data(card)
    workflow_id = f"teams:{TENANT}:{conv}/incident/1"
    assert data["workflow_id"] == workflow_id
    incident = teams.client.get_workflow_handle(workflow_id)

    # A click from another organization is refused privately, and nothing changes.
    foreign = execute(
        connector.url, "a:elsewhere", data, card_id=card_post.new_id, tenant="other-tenant", user="29:bob"
    )
    resp = await send(teams, foreign)
    assert resp.status_code == 200
    answer = resp.json()
    assert answer["type"] == "application/vnd.microsoft.card.adaptive"
    assert "another organization" in answer["value"]["body"][0]["text"]
    before = await incident.query(IncidentWorkflow.get_incident_state)
    assert before.status == "investigating"
    assert connector.updates(conv) == []

    # Bob is neither the commander nor a responder: refused privately, nothing changes.
    resp = await send(
        teams, execute(connector.url, conv, data, card_id=card_post.new_id, user="29:bob", user_name="Bob")
    )
    assert resp.status_code == 200
    assert "not authorized" in resp.json()["value"]["body"][0]["text"].lower()
    state = await incident.query(IncidentWorkflow.get_incident_state)
    assert state.status == "investigating" and state.timeline == before.timeline
    assert connector.updates(conv) == []

    # Alice declared it, so she commands it: her click resolves it. The invoke answer carries
    # the refreshed card, the workflow records who clicked, and the card is updated in place.
    click = execute(connector.url, conv, data, card_id=card_post.new_id, user="29:alice", user_name="Alice")
    resp = await send(teams, click)
    assert resp.status_code == 200, resp.text
    answer = resp.json()
    assert answer["statusCode"] == 200 and answer["type"] == "application/vnd.microsoft.card.adaptive"
    facts = {f["title"]: f["value"] for e in answer["value"]["body"] if e["type"] == "FactSet" for f in e["facts"]}
    assert facts["Status"] == "resolved"
    state = await incident.query(IncidentWorkflow.get_incident_state)
    assert state.status == "resolved"
    assert any(entry.actor == "Alice Example" for entry in state.timeline)
    updates = await connector.wait_for(lambda: connector.updates(conv), 1)
    assert {u.activity_id for u in updates} == {card_post.new_id}
    assert "status resolved" in updates[-1].card["fallbackText"]
    await connector.wait_for(lambda: [p for p in connector.posts(conv) if "resolved" in p.searchable().lower()], 1)

    # The incident is resolved: a late click is refused and changes nothing.
    await incident.result()
    updated = len(connector.updates(conv))
    resp = await send(teams, execute(connector.url, conv, data, card_id=card_post.new_id, user="29:alice"))
    assert resp.status_code == 200
    assert resp.json()["value"]["body"][0]["color"] == "Attention"
    assert len(connector.updates(conv)) == updated


async def test_submit_fallback_reaches_workflow_with_clicker(teams, connector):
    conv = "a:incident-chat-2"
    card_post = await declare_incident(teams, connector, conv)
    data = resolve_data(card_post.card)
    click = submit(connector.url, conv, data, card_id=card_post.new_id, user="29:alice")
    assert (await send(teams, click)).status_code == 201
    updates = await connector.wait_for(lambda: connector.updates(conv), 1)
    assert {u.activity_id for u in updates} == {card_post.new_id}
    state = await teams.client.get_workflow_handle(data["workflow_id"]).query(IncidentWorkflow.get_incident_state)
    assert state.status == "resolved" and any(e.actor == "Alice Example" for e in state.timeline)
    # The click is not a chat message: the session counted only the declaration.
    assert (await teams.state(f"teams:{TENANT}:{conv}"))["message_count"] == 1


async def test_refused_submit_in_a_channel_is_told_privately(teams, connector):
    thread = "19:ops@thread.tacv2;messageid=42"
    data = {
        "threadwork": 1,
        "workflow_id": "teams:other-tenant:x/incident/1",
        "action_id": "incident.resolve",
        "value": "",
    }
    click = submit(connector.url, thread, data, card_id="bot-1", user="29:bob", conversation_type="channel")
    assert (await send(teams, click)).status_code == 201
    [created] = connector.created
    assert created["body"]["members"] == [{"id": "29:bob"}]
    assert created["body"]["isGroup"] is False
    assert "another organization" in created["body"]["activity"]["text"]
    assert connector.posts(thread) == []


async def test_session_buttons_work_through_execute(teams, connector):
    conv = "a:help-chat"
    assert (await send(teams, activity(connector.url, conv, text="help"))).status_code == 201
    [help_post] = await connector.wait_for(lambda: connector.posts(conv), 1)
    [action_set] = [e for e in help_post.card["body"] if e["type"] == "ActionSet"]
    status = next(a for a in action_set["actions"] if a["verb"] == "session.status")
    resp = await send(teams, execute(connector.url, conv, status["data"], card_id=help_post.new_id))
    assert resp.status_code == 200
    assert resp.json()["type"] == "application/vnd.microsoft.activity.message"
    posts = await connector.wait_for(lambda: connector.posts(conv), 2)
    assert "This conversation:" in posts[1].searchable()
