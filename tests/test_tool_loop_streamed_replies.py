"""Streamed replies with the model's tools on (the default, issue 13): the tool loop's model call
streams, so a text answer grows one message as it arrives, a tool call shows nothing, and Stop
cancels the call like a streamed turn's."""

from __future__ import annotations

import asyncio

from aiohttp import web
from temporalio.api.enums.v1 import EventType

from tests.fake_openai import fake_openai
from tests.streaming_support import (
    ANSWER,
    CHUNK_DELAY,
    CHUNKS,
    STOP_BOUND,
    STOP_CHUNK_DELAY,
    stream_events,
    wait_streaming_text,
)
from tests.support.helpers import eventually
from tests.support.httpserver import local_server
from tests.support.stack import is_streaming, running_stack
from workflows.stream_contracts import STOPPED_NOTE
from workflows.turn_runner import LOOP_STOPPED


def _slow(llm) -> None:
    llm.answer = ANSWER
    llm.stream_chunks = CHUNKS
    llm.chunk_delay = CHUNK_DELAY


async def _scheduled(stack, session_id: str) -> list[str]:
    history = await stack.client.get_workflow_handle(session_id).fetch_history()
    return [
        e.activity_task_scheduled_event_attributes.activity_type.name
        for e in history.events
        if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED
    ]


async def test_tool_loop_reply_streams_into_one_message_with_the_full_text(client, tmp_path):
    async with fake_openai() as llm, running_stack(client, tmp_path, llm_base_url=llm.base_url) as stack:
        _slow(llm)
        http = await stack.user("alice")
        sent = await stack.say("tell me everything")
        versions = await stream_events(http, sent["thread"])

        # One message id, growing chunk by chunk, ending with the full answer.
        assert {v["id"] for v in versions} == {versions[0]["id"]}
        growing = [v["text"] for v in versions if is_streaming(v) and v["text"]]
        assert len(set(growing)) >= 3, growing
        assert all(ANSWER.startswith(t) for t in growing) and growing == sorted(growing, key=len)
        assert versions[-1]["text"] == ANSWER
        bots = await stack.bot_messages(sent["thread"], streaming=True)
        assert [(m["text"], is_streaming(m)) for m in bots] == [(ANSWER, False)]

        # The model was asked with tools and stream=True; only the final text is in the workflow's history.
        [asked] = llm.tool_requests
        assert asked["stream"] is True and asked["tools"]
        assert await _scheduled(stack, sent["session_id"]) == ["stream_model_turn"]
        state = await stack.state(sent["session_id"])
        assert state["history"][-1]["text"] == ANSWER


async def test_a_streamed_tool_call_shows_nothing_and_the_answer_after_it_streams(client, tmp_path):
    async with fake_openai() as llm, running_stack(client, tmp_path, llm_base_url=llm.base_url) as stack:
        llm.script_tool_calls(("session_status", {}))
        llm.script_text(ANSWER)
        llm.stream_chunks = CHUNKS
        sent = await stack.say("how is this conversation going?")
        [final] = await stack.wait_bot_messages(sent["thread"], 1)
        assert final["text"] == ANSWER
        await asyncio.sleep(0.3)  # nothing else is posted after the final reply
        assert [m["text"] for m in await stack.bot_messages(sent["thread"], streaming=True)] == [ANSWER]

        # The tool call arrived as deltas and was run: its result went back to the model.
        first, second = llm.tool_requests
        assert first["stream"] is True and second["stream"] is True
        [result] = llm.tool_results()
        assert result and not result.startswith("error")
        assert await _scheduled(stack, sent["session_id"]) == ["stream_model_turn", "stream_model_turn"]


async def test_stop_cancels_the_tool_loop_model_call_and_the_next_message_is_answered(client, tmp_path):
    async with fake_openai() as llm, running_stack(client, tmp_path, llm_base_url=llm.base_url) as stack:
        _slow(llm)
        llm.chunk_delay = STOP_CHUNK_DELAY  # about 20 s in all: only Stop ends it within STOP_BOUND
        sent = await stack.say("tell me everything")
        streaming = await wait_streaming_text(stack.store, sent["thread"], len("word00 word01 word02 "))

        http = await stack.user("bob")
        pressed = asyncio.get_running_loop().time()
        resp = await http.post(
            "/webchat/api/stop", json={"channel": "general", "message_id": streaming["id"], "user": "bob"}
        )
        assert resp.status_code == 202 and resp.json() == {"stopped": True, "detail": ""}
        # The message is final, with the text so far and the note: the answer could not have ended by itself.
        # How fast is a benchmark figure (python -m bench.stop), not asserted here.
        [final] = await stack.wait_bot_messages(sent["thread"], 1, timeout=STOP_BOUND)
        took = asyncio.get_running_loop().time() - pressed
        print(f"\nFIGURE stop (tools on): the stopped message final {took:.2f} s after the press", flush=True)
        so_far = final["text"].removesuffix(STOPPED_NOTE).rstrip()
        assert final["text"].endswith(STOPPED_NOTE) and ANSWER.startswith(so_far) and len(so_far) < len(ANSWER)

        handle = stack.client.get_workflow_handle(sent["session_id"])
        kinds = [e.event_type for e in (await handle.fetch_history()).events]
        assert EventType.EVENT_TYPE_ACTIVITY_TASK_CANCEL_REQUESTED in kinds
        state = await stack.state(sent["session_id"])
        assert state["history"][-2]["role"] == "assistant" and state["history"][-2]["text"] == so_far
        assert state["history"][-1]["text"] == f"bob stopped the reply after {len(so_far)} characters"

        again = await http.post(
            "/webchat/api/stop", json={"channel": "general", "message_id": streaming["id"], "user": "bob"}
        )
        assert again.json()["stopped"] is False
        llm.chunk_delay = 0.0
        await stack.say("are you still there?", thread=sent["thread"])
        bots = await stack.wait_bot_messages(sent["thread"], 2)
        assert [m["text"] for m in bots] == [final["text"], ANSWER]
        assert len(llm.tool_requests) == 2


def held_files(files: dict[str, tuple[bytes, str]], release: asyncio.Event, asked: asyncio.Event):
    """Document routes that answer only once ``release`` is set (a tool that takes its time)."""

    def setup(app: web.Application, _recorded: list) -> None:
        async def get(request: web.Request) -> web.Response:
            asked.set()
            async with asyncio.timeout(30):
                await release.wait()
            data, ctype = files[request.path]
            return web.Response(body=data, headers={"Content-Type": ctype})

        app.router.add_get("/{tail:.*}", get)

    return setup


async def test_stop_while_a_tool_runs_ends_the_loop_without_another_model_call(client, tmp_path):
    release, asked = asyncio.Event(), asyncio.Event()
    files = {"/notes.txt": (b"the notes", "text/plain; charset=utf-8")}
    async with (
        fake_openai() as llm,
        local_server(held_files(files, release, asked)) as docs,
        running_stack(client, tmp_path, llm_base_url=llm.base_url) as stack,
    ):
        llm.script_tool_calls(("process_document", {"url": f"{docs.base_url}/notes.txt"}))
        llm.script_text("never asked for")
        sent = await stack.say(f"please read {docs.base_url}/notes.txt")
        # The tool runs (the document child fetches the file, and the loop waits for it): no model call runs.
        await asyncio.wait_for(asked.wait(), 20)
        started = (await stack.wait_bot_messages(sent["thread"], 1))[0]

        http = await stack.user("bob")
        resp = await http.post(
            "/webchat/api/stop", json={"channel": "general", "message_id": started["id"], "user": "bob"}
        )
        assert resp.status_code == 202 and resp.json() == {"stopped": True, "detail": LOOP_STOPPED}
        stopped = "Stopped: I did not ask the model again."
        bots = await eventually(
            lambda: stack.bot_messages(sent["thread"]),
            lambda ms: any(m["text"].startswith(stopped) for m in ms),
            what="the loop's stopped reply",
            timeout=STOP_BOUND,
        )
        [said] = [m for m in bots if m["text"].startswith(stopped)]
        assert "process_document" in said["text"]
        assert len(llm.tool_requests) == 1  # the model was not asked again

        state = await stack.state(sent["session_id"])
        assert state["history"][-1]["text"].startswith("bob stopped the reply after")
        assert [c["tool"] for c in state["tool_calls"]] == ["process_document"]
        again = await http.post(
            "/webchat/api/stop", json={"channel": "general", "message_id": started["id"], "user": "bob"}
        )
        assert again.json()["stopped"] is False
        release.set()
