"""Driving an incident through the web chat of a running stack (declare, find, click, read)."""

from __future__ import annotations

from dataclasses import dataclass

from tests.support.helpers import eventually
from tests.support.stack import Stack
from workflows.incident import IncidentWorkflow
from workflows.incident.incident_models import IncidentState


@dataclass
class Incident:
    stack: Stack
    session_id: str
    origin_thread: str
    workflow_id: str

    async def state(self) -> IncidentState:
        return await self.stack.client.get_workflow_handle(self.workflow_id).query(IncidentWorkflow.get_incident_state)

    async def wait_state(self, check, what: str = "incident state") -> IncidentState:
        return await eventually(self.state, check, what=what)

    async def channel(self) -> str:
        state = await self.wait_state(lambda s: s.card is not None, "the card")
        return state.conversation.channel

    async def card(self) -> dict:
        state = await self.wait_state(lambda s: s.card is not None, "the card")
        message = await self.stack.store.get_message(state.card.message_id)
        assert message is not None
        return message

    async def click(self, action_id: str, user: str, value: str = "", message: dict | None = None) -> dict:
        message = message or await self.card()
        resp = await self.stack.click(message, action_id, user, value)
        assert resp.status_code == 202, resp.text
        return resp.json()

    async def channel_texts(self) -> list[str]:
        return [m["text"] for m in await self.stack.store.messages(await self.channel()) if m["is_bot"]]

    async def origin_texts(self) -> list[str]:
        return [m["text"] for m in await self.stack.bot_messages(self.origin_thread)]

    async def result(self) -> IncidentState:
        return await self.stack.client.get_workflow_handle_for(IncidentWorkflow.run, self.workflow_id).result()


def buttons(message: dict) -> list[list[str]]:
    """Button labels per buttons row of a stored web chat message."""
    return [[b["label"] for b in blk["buttons"]] for blk in message["blocks"] if blk["type"] == "buttons"]


def fields(message: dict) -> dict[str, str]:
    return {k: v for blk in message["blocks"] if blk["type"] == "fields" for k, v in blk["fields"]}


async def declare(
    stack: Stack, text: str, user: str = "alice", thread: str | None = None, channel: str = "general"
) -> Incident:
    sent = await stack.say(text, user=user, thread=thread, channel=channel)
    state = await eventually(
        lambda: stack.state(sent["session_id"]),
        lambda s: any(w["workflow_type"] == "IncidentWorkflow" for w in s["triggered_workflows"]),
        what="an incident started",
    )
    workflow_id = [w for w in state["triggered_workflows"] if w["workflow_type"] == "IncidentWorkflow"][-1][
        "workflow_id"
    ]
    return Incident(stack, sent["session_id"], sent["thread"], workflow_id)
