"""Slash commands are acknowledged at once; button clicks reach their workflow with the clicker."""

from __future__ import annotations

import asyncio
import json

from temporalio.client import WorkflowExecutionStatus
from temporalio.service import RPCError

from tests.support.helpers import eventually
from workflows.chat_session import ChatSessionWorkflow
from workflows.incident import IncidentWorkflow


async def test_threadwork_help_workflows_and_unknown_are_answered_in_the_ack(slack):
    _stack, sim = slack
    resp = await sim.command("/threadwork", "help")
    assert resp.status_code == 200
    assert "I'm threadwork" in resp.json()["text"] and "/incident <title>" in resp.json()["text"]

    resp = await sim.command("/threadwork", "")
    assert "I'm threadwork" in resp.json()["text"]

    resp = await sim.command("/threadwork", "workflows")
    assert "IncidentWorkflow" in resp.json()["text"] and "DocumentProcessingWorkflow" in resp.json()["text"]

    resp = await sim.command("/threadwork", "dance")
    assert resp.status_code == 200
    assert "I don't know /threadwork dance" in resp.json()["text"]

    resp = await sim.command("/incident", "   ")
    assert resp.json()["text"].startswith("Usage: /incident <title>")


async def test_threadwork_status_and_end_act_on_the_dm_session(slack):
    stack, sim = slack
    await sim.event(sim.message("D7", "UALICE", "hello"))
    await sim.fake.wait_for(lambda: sim.fake.posts("D7"), what="the DM reply")

    resp = await sim.command("/threadwork", "status", channel="D7")
    assert resp.status_code == 200
    answer = await sim.fake.wait_for(lambda: sim.fake.responses, what="the status on response_url")
    assert answer[0]["response_type"] == "ephemeral"
    assert "slack:T1:D7:dm is active: 1 messages" in answer[0]["text"]

    resp = await sim.command("/threadwork", "end", channel="D7")
    assert resp.status_code == 200
    said = await sim.fake.wait_for(lambda: len(sim.fake.responses) >= 2 and sim.fake.responses, what="the end answer")
    assert said[1]["text"].startswith("Ending this conversation's session")
    posts = await sim.fake.wait_for(lambda: len(sim.fake.posts("D7")) >= 2 and sim.fake.posts("D7"), what="the goodbye")
    assert "Session ended" in posts[1]["text"]
    ended = await stack.client.get_workflow_handle_for(ChatSessionWorkflow.run, "slack:T1:D7:dm").result()
    assert ended.is_active is False

    resp = await sim.command("/threadwork", "end", channel="C42")
    assert resp.status_code == 200
    said = await sim.fake.wait_for(
        lambda: len(sim.fake.responses) >= 3 and sim.fake.responses, what="the no-session answer"
    )
    assert "no session here" in said[2]["text"]


async def test_incident_is_acked_before_the_durable_work_and_its_button_reaches_the_workflow(slack):
    stack, sim = slack
    gate = sim.fake.hold("chat.postMessage")  # Slack is slow to take our posts
    resp = await sim.command("/incident", "checkout is down", channel="C1", user="UALICE")
    # The ack came back while nothing could be posted yet: the work happens after it.
    assert resp.status_code == 200
    assert resp.json() == {"text": 'Declaring incident "checkout is down"…', "response_type": "ephemeral"}
    assert list(sim.fake.messages.get("C1", [])) == []
    gate.set()

    anchor = (
        await sim.fake.wait_for(
            lambda: [m for m in sim.fake.posts("C1") if not m["thread_ts"]], what="the incident thread"
        )
    )[0]
    assert anchor["text"] == "<@UALICE> declared an incident: *checkout is down*"
    incident_id = f"slack:T1:C1:{anchor['ts']}/incident/1"

    def card_posted():
        # The card lives in the incident's own channel (see tests/slack/test_incident_slack.py).
        return [m for m in sim.fake.posts() if m["blocks"] and m["blocks"][0].get("type") == "header"]

    card = (await sim.fake.wait_for(card_posted, what="the incident card"))[0]
    assert card["blocks"][0]["text"]["text"] == "Incident SEV1: Checkout is down"
    resolve = next(b for b in card["blocks"] if b["type"] == "actions")["elements"][3]
    assert json.loads(resolve["value"]) == {"w": incident_id, "a": "incident.resolve", "v": ""}
    session_id = f"slack:T1:C1:{anchor['ts']}"
    # The card may land before the session has recorded its child: ask until it has.
    for _ in range(100):
        session = await stack.state(session_id)
        if session["triggered_workflows"]:
            break
        await asyncio.sleep(0.05)
    assert session["triggered_workflows"][0]["workflow_id"] == incident_id

    before_click = dict(card)
    resp = await sim.click(card, 3, user="UALICE")  # the commander (who declared it)
    assert resp.status_code == 200

    handle = stack.client.get_workflow_handle_for(IncidentWorkflow.run, incident_id)
    state = await handle.result()
    assert state.status == "resolved"
    assert state.timeline[-1].actor == "Alice"  # users.info name of the clicker
    history = [e.SerializeToString() async for e in handle.fetch_history_events()]
    assert any(b'"UALICE"' in e and b"incident.resolve" in e for e in history)  # the update carried the clicker's id
    assert (await handle.describe()).status == WorkflowExecutionStatus.COMPLETED

    # The card was updated in place.
    updates = await sim.fake.wait_for(lambda: sim.fake.calls_to("chat.update"), what="chat.update of the card")
    assert updates[0].params["ts"] == card["ts"]
    edited = sim.fake._find(card["channel"], card["ts"])
    assert "status resolved" in edited["text"]
    assert not [b for b in edited["blocks"] if b["type"] == "actions"]  # no Resolve button any more

    # A second click on the stale card is refused privately, to the clicker only.
    await sim.click(before_click, 3, user="UALICE")
    note = await sim.fake.wait_for(lambda: sim.fake.ephemeral, what="the private refusal")
    assert note[0]["user"] == "UALICE"
    assert note[0]["channel"] == card["channel"] and not note[0].get("thread_ts")
    assert "finished" in note[0]["text"] or "already resolved" in note[0]["text"]


async def test_session_button_reaches_the_session_and_foreign_buttons_are_refused(slack):
    _stack, sim = slack
    root = await sim.mention("C1", "UALICE", "help")
    # A streamed reply with blocks is finished by chat.update after chat.stopStream: wait for its final form.
    help_reply = (
        await sim.fake.wait_for(lambda: [m for m in sim.fake.posts("C1", root["ts"]) if m["blocks"]], what="help")
    )[0]
    resp = await sim.click(help_reply, 0, user="UBOB")  # Status
    assert resp.status_code == 200
    status = (
        await sim.fake.wait_for(
            lambda: len(sim.fake.posts("C1", root["ts"])) >= 2 and sim.fake.posts("C1", root["ts"]), what="status"
        )
    )[1]
    assert status["blocks"][0]["text"]["text"] == "Session status"
    assert status["thread_ts"] == root["ts"]

    foreign = dict(help_reply)
    foreign["blocks"] = [
        {
            "type": "actions",
            "elements": [
                {"type": "button", "action_id": "x", "text": {"type": "plain_text", "text": "X"}, "value": "not-ours"}
            ],
        }
    ]
    assert (await sim.click(foreign, user="UBOB")).status_code == 200
    note = await sim.fake.wait_for(lambda: sim.fake.ephemeral, what="the private refusal")
    assert note[0]["user"] == "UBOB"
    assert "can't handle that button" in note[0]["text"]


async def test_custom_workflows_are_listed_and_run_in_a_new_thread(slack):
    stack, sim = slack
    resp = await sim.command("/threadwork", "workflows")
    listing = resp.json()["text"]
    assert "deploy-approval (DeployApprovalWorkflow)" in listing and "/threadwork run deploy-approval" in listing

    resp = await sim.command("/threadwork", "run no-such-thing", channel="C5")
    assert "I can't run no-such-thing" in resp.json()["text"] and "deploy-approval" in resp.json()["text"]

    resp = await sim.command("/threadwork", "run deploy-approval api v1.4 to production", channel="C5", user="UALICE")
    assert resp.json() == {"text": "Starting deploy-approval…", "response_type": "ephemeral"}
    anchor = (
        await sim.fake.wait_for(lambda: [m for m in sim.fake.posts("C5") if not m["thread_ts"]], what="the anchor")
    )[0]
    assert anchor["text"] == "<@UALICE> started deploy-approval: api v1.4 to production"
    session_id = f"slack:T1:C5:{anchor['ts']}"

    async def triggered() -> list:
        try:
            state = await stack.client.get_workflow_handle_for(ChatSessionWorkflow.run, session_id).query(
                ChatSessionWorkflow.get_session_state
            )
        except RPCError:  # the session starts after the ack: not there yet
            return []
        return state.triggered_workflows

    [run] = await eventually(triggered, bool, what="the custom workflow's start")
    assert run.workflow_type == "DeployApprovalWorkflow"
    assert run.title == "api v1.4 to production"
    described = await stack.client.get_workflow_handle(run.workflow_id).describe()
    assert described.workflow_type == "DeployApprovalWorkflow"
    assert described.status == WorkflowExecutionStatus.RUNNING
