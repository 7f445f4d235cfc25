"""A child's progress as steps of one message (issue 13), in the web chat: declaring an incident shows
its setup (responders, channel, card) as steps of one message in the thread, ending with every step done
and the link to the incident channel; the steps never enter the incident's workflow history."""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any

import httpx
from temporalio.api.enums.v1 import EventType

from adapters.webchat.platform import WebChatPlatform
from tests.support.helpers import eventually
from tests.support.incident_chat import declare
from tests.support.stack import is_streaming, running_stack
from workflows.contracts import CreatedChannel, plain_links

DECLARATION = "we have a critical incident: payments are down"
HANDLED = "is being handled in"


class SlowChannels(WebChatPlatform):
    """The web chat, with channels that take a moment to open (so a step in progress shows)."""

    async def create_channel(self, name: str, *, topic: str = "", members: Any = None, like: Any) -> CreatedChannel:
        await asyncio.sleep(0.8)
        return await super().create_channel(name, topic=topic, members=members, like=like)


async def bot_versions(http: httpx.AsyncClient, seen: list[dict[str, Any]]) -> None:
    """Every version of every bot message on the event stream, until cancelled."""
    async with http.stream("GET", "/webchat/api/stream", params={"after": "0"}) as resp:
        async for line in resp.aiter_lines():
            if line.startswith("data: "):
                message = json.loads(line[len("data: ") :])["message"]
                if message["is_bot"]:
                    seen.append(message)


async def test_incident_setup_shows_its_steps_in_one_message_ending_done(client, tmp_path):
    async with running_stack(client, tmp_path, incident_responders="bob") as stack:
        stack.platforms.registry.register(SlowChannels(stack.store))
        seen: list[dict[str, Any]] = []
        reader = asyncio.create_task(bot_versions(await stack.user("carol"), seen))
        try:
            inc = await declare(stack, DECLARATION)
            state = await inc.wait_state(lambda s: s.card is not None, "the card")
            await eventually(
                lambda: stack.bot_messages(inc.origin_thread),
                lambda ms: any(HANDLED in m["text"] for m in ms),
                what="the progress message's end",
            )
        finally:
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reader

        # One message in the origin thread carries the setup: its steps, then the link.
        [progress] = [m for m in await stack.bot_messages(inc.origin_thread) if HANDLED in m["text"]]
        assert plain_links(progress["text"]).startswith('Incident SEV1 "Payments are down" is being handled in #inc-')
        checklist = progress["blocks"][0]
        assert checklist["type"] == "text" and checklist["style"] == "context"
        assert checklist["text"].splitlines() == [
            "✓ 1 responder found",
            f"✓ Channel #{state.conversation_name} created",
            "✓ Incident card posted",
        ]
        assert not [
            m for m in await stack.bot_messages(inc.origin_thread) if m["id"] != progress["id"] and HANDLED in m["text"]
        ]

        # While the channel opened, the same message showed a status and the steps so far.
        versions = [v for v in seen if v["id"] == progress["id"]]
        growing = [b for v in versions if is_streaming(v) for b in v["blocks"] if b["type"] == "stream"]
        assert growing and growing[0]["status"] == "Setting up the incident…"
        assert not any(b["stoppable"] for b in growing if b["steps"])  # no Stop button: it is not a turn
        assert any(
            s["state"] == "in_progress" or s["title"].startswith("Channel #") for b in growing for s in b["steps"]
        )
        assert not is_streaming(versions[-1])

        # The steps travelled activity -> platform: the incident's history has one progress activity, no step.
        history = await stack.client.get_workflow_handle(inc.workflow_id).fetch_history()
        scheduled = [
            e.activity_task_scheduled_event_attributes.activity_type.name
            for e in history.events
            if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED
        ]
        assert scheduled.count("show_child_progress") == 1
        assert "Opening the incident channel" not in history.to_json()


class DiesBeforeTheEnd(WebChatPlatform):
    """The progress message's first attempt dies before its end, as a killed worker's would."""

    def __init__(self, store: Any) -> None:
        super().__init__(store)
        self.opened = 0

    async def open_stream(self, key: Any, idempotency_key: str, recipient: Any, *, context: Any = None) -> Any:
        stream = await super().open_stream(key, idempotency_key, recipient, context=context)
        self.opened += 1
        if self.opened == 1:

            async def dies(reply: Any) -> Any:
                raise RuntimeError("the worker died before the progress message's end")

            stream.finish = dies  # type: ignore[method-assign]
        return stream


async def test_a_retried_progress_message_finishes_its_own_message(client, tmp_path):
    async with running_stack(client, tmp_path) as stack:
        platform = DiesBeforeTheEnd(stack.store)
        stack.platforms.registry.register(platform)
        inc = await declare(stack, DECLARATION)
        await eventually(
            lambda: stack.bot_messages(inc.origin_thread),
            lambda ms: any(HANDLED in m["text"] for m in ms),
            what="the progress message's end",
        )
        assert platform.opened == 2  # the retried attempt opened the stream again, under the same key
        bots = await stack.bot_messages(inc.origin_thread, streaming=True)
        [progress] = [m for m in bots if HANDLED in m["text"] or is_streaming(m)]
        assert progress["blocks"][0]["text"].endswith("✓ Incident card posted")
        history = await stack.client.get_workflow_handle(inc.workflow_id).fetch_history()
        started = [
            e.activity_task_started_event_attributes.attempt
            for e in history.events
            if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED
            and e.activity_task_started_event_attributes.attempt > 1
        ]
        assert started == [2]
