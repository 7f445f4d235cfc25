"""Record workflow histories for the replay test: `python -m tests.histories.record`.

Run it on purpose when a workflow change is meant to be incompatible (and version
running workflows with workflow.patched() otherwise). It drives real scenarios
through the gateway on a fresh dev server and writes one JSON file per run.
"""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path

from aiohttp import web
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from bots.devserver import temporal_binary
from tests.support.stack import Stack, free_port, running_stack
from workflows.data_converter import data_converter
from workflows.incident import IncidentWorkflow

OUT = Path(__file__).parent


async def _save_all_runs(client: Client, workflow_id: str, name: str) -> None:
    runs = [wf async for wf in client.list_workflows(f"WorkflowId = '{workflow_id}'")]
    for n, wf in enumerate(sorted(runs, key=lambda w: w.start_time), start=1):
        history = await client.get_workflow_handle(workflow_id, run_id=wf.run_id).fetch_history()
        suffix = f"-run{n}" if len(runs) > 1 else ""
        (OUT / f"{name}{suffix}.json").write_text(history.to_json())


async def _wait_closed(client: Client, workflow_id: str) -> None:
    await client.get_workflow_handle(workflow_id).result()


async def conversation(stack: Stack) -> None:
    first = await stack.say("hello")
    thread, sid = first["thread"], first["session_id"]
    await stack.say("help", thread=thread)
    bot = await stack.wait_bot_messages(thread, 2)
    status = next(
        b
        for blk in bot[1]["blocks"]
        if blk["type"] == "buttons"
        for b in blk["buttons"]
        if b["action_id"] == "session.status"
    )
    resp = await stack.http.post(
        "/webchat/api/actions",
        json={
            "channel": "general",
            "thread": thread,
            "message_id": bot[1]["id"],
            "action_id": status["action_id"],
            "user": "alice",
        },
    )
    assert resp.status_code == 202, resp.text
    await stack.wait_bot_messages(thread, 3)
    await stack.say("end", thread=thread)
    await _wait_closed(stack.client, sid)
    await _save_all_runs(stack.client, sid, "session_conversation")


async def guest_and_continue_as_new(stack: Stack) -> None:
    first = await stack.say("hi", user="gus", guest=True)
    thread, sid = first["thread"], first["session_id"]
    for n in range(2, 5):
        await stack.say(f"guest message {n}", thread=thread, user="gus", guest=True)
        await stack.wait_bot_messages(thread, n)
    await stack.say("member now", thread=thread, user="gus")
    await stack.wait_bot_messages(thread, 5)
    await stack.say("end", thread=thread)
    await _wait_closed(stack.client, sid)
    await _save_all_runs(stack.client, sid, "session_guest_can")


async def incident_and_document(stack: Stack, doc_url: str) -> None:
    first = await stack.say("we have a critical incident: checkout is down", user="ivy")
    thread, sid = first["thread"], first["session_id"]
    state = None
    for _ in range(200):
        state = await stack.state(sid)
        if state["triggered_workflows"]:
            break
        await asyncio.sleep(0.05)
    incident_id = state["triggered_workflows"][0]["workflow_id"]
    incident = stack.client.get_workflow_handle_for(IncidentWorkflow.run, incident_id)
    for _ in range(400):
        inc = await incident.query(IncidentWorkflow.get_incident_state)
        if inc.card is not None:
            break
        await asyncio.sleep(0.05)
    channel = inc.conversation.channel
    await stack.say("incident note rolled back the deploy", thread=thread, user="ivy")
    await stack.wait_bot_messages(thread, 3)
    card = await stack.store.get_message(inc.card.message_id)
    resolve = next(
        b for blk in card["blocks"] if blk["type"] == "buttons" for b in blk["buttons"] if "resolve" in b["action_id"]
    )
    resp = await stack.http.post(
        "/webchat/api/actions",
        json={
            "channel": channel,
            "thread": card["thread"],
            "message_id": card["id"],
            "action_id": resolve["action_id"],
            "value": resolve.get("value", ""),
            "user": "ivy",
        },
    )
    assert resp.status_code == 202, resp.text
    await _wait_closed(stack.client, incident_id)
    links = [wf.id async for wf in stack.client.list_workflows("WorkflowType = 'IncidentLinkWorkflow'")]
    for link in links:
        await _wait_closed(stack.client, link)
        await _save_all_runs(stack.client, link, "incident_link")
    await _save_all_runs(stack.client, incident_id, "incident_resolved")

    await stack.say(f"summarize {doc_url}", thread=thread, user="ivy")
    doc_id = f"{sid}/document/1"
    for _ in range(200):
        if any(w["workflow_id"] == doc_id for w in (await stack.state(sid))["triggered_workflows"]):
            break
        await asyncio.sleep(0.05)
    await _wait_closed(stack.client, doc_id)
    await _save_all_runs(stack.client, doc_id, "document_summarized")
    await stack.say("end", thread=thread, user="ivy")
    await _wait_closed(stack.client, sid)
    await _save_all_runs(stack.client, sid, "session_with_children")


async def event_notice(stack: Stack) -> None:
    """An external event's notice (what /events/s3 starts for an ObjectRemoved event)."""
    from workflows.contracts import ChildWorkflowInput, ConversationKey
    from workflows.notice import EventNoticeWorkflow

    workflow_id = "notice:s3:recorded-bucket/report.md#0001"
    await stack.client.execute_workflow(
        EventNoticeWorkflow.run,
        ChildWorkflowInput(
            origin=ConversationKey(platform="webchat", channel="general"),
            session_id="",
            title="report.md removed",
            args={"text": "S3 object removed: recorded-bucket/report.md"},
        ),
        id=workflow_id,
        task_queue=stack.settings.task_queue,
    )
    await _save_all_runs(stack.client, workflow_id, "event_notice")


async def idle(stack: Stack) -> None:
    first = await stack.say("anyone?")
    await _wait_closed(stack.client, first["session_id"])
    await _save_all_runs(stack.client, first["session_id"], "session_idle")


async def main() -> None:
    doc = web.Application()
    doc.router.add_get(
        "/report.md",
        lambda r: web.Response(
            text="# Checkout outage report\nThe checkout service failed after a bad deploy. "
            "Rolling back the deploy restored the checkout service. Alerts fired within two minutes.",
            content_type="text/markdown",
        ),
    )
    runner = web.AppRunner(doc)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    for old in OUT.glob("*.json"):
        old.unlink()
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=temporal_binary(), data_converter=data_converter, ui=False
    )
    try:
        with tempfile.TemporaryDirectory() as tmp:
            async with running_stack(env.client, Path(tmp) / "a") as stack:
                await conversation(stack)
                await incident_and_document(stack, f"http://127.0.0.1:{port}/report.md")
                await event_notice(stack)
            async with running_stack(
                env.client, Path(tmp) / "b", guest_message_limit=2, session_max_turns_per_run=2
            ) as stack:
                await guest_and_continue_as_new(stack)
            async with running_stack(env.client, Path(tmp) / "c", session_idle_timeout=1) as stack:
                await idle(stack)
    finally:
        await env.shutdown()
        await runner.cleanup()
    print("\n".join(sorted(p.name for p in OUT.glob("*.json"))))


if __name__ == "__main__":
    asyncio.run(main())
