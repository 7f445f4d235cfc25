"""Fault case: the worker is SIGKILLed between the model's tool call and the incident's start.

Production shape (`threadwork worker` + `threadwork gateway` on a file-backed dev server, a fake
OpenAI server on loopback). The worker dies right after the model answered with start_incident,
and again right after the requester's confirmation click; each time a new worker takes over from
history. Promise: one confirmation question, one incident, one "started" message.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx

from bots.temporal import connect
from tests.fake_openai import fake_openai
from tests.faults.support import Deployment, say, thread_messages, until

REPORT = "checkout is throwing 500s for everyone since the deploy, can you get people on it?"
DEADLINE = 120.0


def incident_or_text(body: dict[str, Any]) -> dict[str, Any]:
    """Every model turn asks for the incident until the tool result is in; then it answers in text."""
    if any(m.get("role") == "tool" for m in body["messages"]):
        return {"text": "I've asked you to confirm the incident."}
    return {"tool_calls": [("start_incident", {"title": "Checkout returns 500s", "severity": "SEV2"})], "text": ""}


def bot_texts(messages: list[dict], starts: str) -> list[dict]:
    return [m for m in messages if m["is_bot"] and m["text"].startswith(starts)]


async def test_worker_killed_between_tool_call_and_child_start_yields_one_incident(tmp_path: Path):
    async with fake_openai() as llm:
        deployment = Deployment(tmp_path, THREADWORK_LLM_BASE_URL=llm.base_url, THREADWORK_LLM_TIMEOUT="5")
        llm.responder = incident_or_text
        loop = asyncio.get_running_loop()

        async def kill_after_answering(n: int, body: dict) -> None:
            if n == 1:  # the tool call is answered, then its worker dies before it can act on it
                assert deployment.worker is not None
                loop.call_later(0.05, deployment.worker.kill)

        llm.on_tools_request = kill_after_answering
        try:
            await deployment.temporal.start()
            await deployment.start_worker()
            async with httpx.AsyncClient(base_url=deployment.base_url, timeout=60) as http:
                await deployment.start_gateway(http)
                sent = await say(http, REPORT)
                thread = sent["thread"]
                await until(
                    "the worker killed", lambda: asyncio.sleep(0, result=not deployment.worker.alive()), DEADLINE
                )
                await deployment.start_worker()

                async def question() -> dict | None:
                    found = bot_texts(await thread_messages(http, thread), "Approval needed")
                    return found[0] if found else None

                asked = await until("the confirmation question", question, DEADLINE, *deployment.processes())
                approve = next(
                    b
                    for blk in asked["blocks"]
                    if blk["type"] == "buttons"
                    for b in blk["buttons"]
                    if b["label"] == "Approve"
                )
                clicked = await http.post(
                    "/webchat/api/actions",
                    json={
                        "channel": "general",
                        "thread": thread,
                        "message_id": asked["id"],
                        "action_id": approve["action_id"],
                        "value": approve["value"],
                        "user": "dana",
                    },
                )
                assert clicked.status_code == 202, clicked.text
                deployment.worker.kill()  # between the confirmation and (maybe) the child's start
                await deployment.start_worker()

                client = await connect(deployment.temporal.address)

                async def incidents() -> list[str]:
                    found = [w.id async for w in client.list_workflows("WorkflowType = 'IncidentWorkflow'")]
                    started = bot_texts(await thread_messages(http, thread), "I've started")
                    return found if found and started else []

                found = await until("the incident", incidents, DEADLINE, *deployment.processes())
                assert found == [f"{sent['session_id']}/incident/1"]
                messages = await thread_messages(http, thread)
                assert len(bot_texts(messages, "Approval needed")) == 1
                assert len(bot_texts(messages, "I've started")) == 1
                assert len(llm.tool_requests) >= 2
        finally:
            await deployment.close()
