"""Streamed replies in the web chat (issue 13): one message that grows over the event stream and ends
whole; Stop cancels the turn in the workflow, the history says so, and the next message is answered."""

from __future__ import annotations

import asyncio

from temporalio.api.enums.v1 import EventType, PendingActivityState

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
from tests.support.stack import is_streaming, running_stack
from workflows.stream_contracts import STOPPED_NOTE


def _slow(llm) -> None:
    llm.answer = ANSWER
    llm.stream_chunks = CHUNKS
    llm.chunk_delay = CHUNK_DELAY


async def test_slow_model_reply_streams_into_one_message_with_the_full_text(client, tmp_path):
    async with (
        fake_openai() as llm,
        running_stack(client, tmp_path, llm_base_url=llm.base_url, llm_tools=False) as stack,
    ):
        _slow(llm)
        http = await stack.user("alice")
        sent = await stack.say("tell me everything")
        versions = await stream_events(http, sent["thread"])

        # One message id, growing: a status line first, then more and more of the answer.
        assert {v["id"] for v in versions} == {versions[0]["id"]}
        streamed = [v["text"] for v in versions if is_streaming(v)]
        assert any(b["status"] for v in versions if is_streaming(v) for b in v["blocks"])
        growing = [t for t in streamed if t]
        assert len(set(growing)) >= 3, streamed
        assert all(ANSWER.startswith(t) for t in growing) and growing == sorted(growing, key=len)
        assert versions[-1]["text"] == ANSWER

        # Exactly one bot message in the store, final, with the full text.
        bots = await stack.bot_messages(sent["thread"], streaming=True)
        assert [(m["text"], is_streaming(m)) for m in bots] == [(ANSWER, False)]
        assert llm.requests[-1]["body"]["stream"] is True and not llm.tool_requests  # THREADWORK_LLM_TOOLS=false

        # The workflow recorded the final text only: no chunk travelled through its history.
        history = await stack.client.get_workflow_handle(sent["session_id"]).fetch_history()
        scheduled = [e for e in history.events if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED]
        assert [e.activity_task_scheduled_event_attributes.activity_type.name for e in scheduled] == ["stream_turn"]
        state = await stack.state(sent["session_id"])
        assert state["history"][-1]["text"] == ANSWER


async def test_builtin_responder_answers_at_once_without_a_stream(client, tmp_path):
    """The built-in responder's reply is whole the moment it is made: one post by the turn's local
    activity (issue 12), no stream, no activity task."""
    async with running_stack(client, tmp_path) as stack:
        http = await stack.user("alice")
        sent = await stack.say("hello there")
        versions = await stream_events(http, sent["thread"])
        assert versions and not any(is_streaming(v) for v in versions)
        [final] = await stack.bot_messages(sent["thread"], streaming=True)
        assert final["text"].startswith("Got it (message 1 in this conversation).")
        history = await stack.client.get_workflow_handle(sent["session_id"]).fetch_history()
        scheduled = [e for e in history.events if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED]
        assert scheduled == []
        # A command's reply keeps its blocks and buttons when it ends.
        await stack.say("help", thread=sent["thread"])
        bots = await stack.wait_bot_messages(sent["thread"], 2)
        assert [b["type"] for b in bots[1]["blocks"]] == ["text", "text", "buttons"]


async def test_builtin_responder_streams_when_asked_to_show_the_experience_without_a_model(client, tmp_path):
    """THREADWORK_BUILTIN_STREAM=true: the built-in reply streams like a model's (status, growing text)."""
    async with running_stack(client, tmp_path, builtin_stream=True) as stack:
        http = await stack.user("alice")
        sent = await stack.say("hello there")
        versions = await stream_events(http, sent["thread"])
        partial = [v["text"] for v in versions if is_streaming(v) and v["text"]]
        assert partial and all(versions[-1]["text"].startswith(t) and t != versions[-1]["text"] for t in partial)
        [final] = await stack.bot_messages(sent["thread"], streaming=True)
        assert final["text"].startswith("Got it (message 1 in this conversation).")
        history = await stack.client.get_workflow_handle(sent["session_id"]).fetch_history()
        scheduled = [e for e in history.events if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED]
        assert [e.activity_task_scheduled_event_attributes.activity_type.name for e in scheduled] == ["stream_turn"]
        # A command's reply keeps its blocks and buttons when it ends.
        await stack.say("help", thread=sent["thread"])
        bots = await stack.wait_bot_messages(sent["thread"], 2)
        assert [b["type"] for b in bots[1]["blocks"]] == ["text", "text", "buttons"]


async def test_stop_ends_the_turn_in_the_workflow_and_the_next_message_is_answered(client, tmp_path):
    async with (
        fake_openai() as llm,
        running_stack(client, tmp_path, llm_base_url=llm.base_url, llm_tools=False) as stack,
    ):
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
        print(f"\nFIGURE stop: the stopped message final {took:.2f} s after the press", flush=True)
        so_far = final["text"].removesuffix(STOPPED_NOTE).rstrip()
        assert final["text"].endswith(STOPPED_NOTE) and ANSWER.startswith(so_far) and len(so_far) < len(ANSWER)

        # The session's history: the activity was cancelled; who stopped it, after how much.
        handle = stack.client.get_workflow_handle(sent["session_id"])
        history = await handle.fetch_history()
        kinds = [e.event_type for e in history.events]
        assert EventType.EVENT_TYPE_ACTIVITY_TASK_CANCEL_REQUESTED in kinds
        state = await stack.state(sent["session_id"])
        assert state["history"][-2]["role"] == "assistant" and state["history"][-2]["text"] == so_far
        assert state["history"][-1]["role"] == "system"
        assert state["history"][-1]["text"] == f"bob stopped the reply after {len(so_far)} characters"

        # Nothing runs any more: a second press says so; the next message is answered in full.
        again = await http.post(
            "/webchat/api/stop", json={"channel": "general", "message_id": streaming["id"], "user": "bob"}
        )
        assert again.json()["stopped"] is False
        llm.chunk_delay = 0.0
        await stack.say("are you still there?", thread=sent["thread"])
        bots = await stack.wait_bot_messages(sent["thread"], 2)
        assert [m["text"] for m in bots] == [final["text"], ANSWER]


async def test_stop_refuses_a_message_that_is_not_a_reply(stack):
    sent = await stack.say("hello")
    http = await stack.user("alice")
    resp = await http.post(
        "/webchat/api/stop", json={"channel": "general", "message_id": sent["message_id"], "user": "alice"}
    )
    assert resp.status_code == 400 and "is not a reply" in resp.json()["error"]
    resp = await http.post("/webchat/api/stop", json={"channel": "general", "user": "alice"})
    assert resp.status_code == 400 and "message_id is required" in resp.json()["error"]


async def _between_attempts(stack, session_id: str, attempt: int, timeout: float = 20) -> None:
    """Until the session's turn activity waits for its ``attempt``-th try (the earlier one failed)."""
    handle = stack.client.get_workflow_handle(session_id)
    async with asyncio.timeout(timeout):
        while True:
            pending = (await handle.describe()).raw_description.pending_activities
            if any(
                p.attempt == attempt and p.state == PendingActivityState.PENDING_ACTIVITY_STATE_SCHEDULED
                for p in pending
            ):
                return
            await asyncio.sleep(0.02)


async def test_stop_between_two_attempts_finishes_the_message_with_the_note(client, tmp_path):
    async with (
        fake_openai() as llm,
        running_stack(client, tmp_path, llm_base_url=llm.base_url, llm_tools=False) as stack,
    ):
        _slow(llm)
        llm.break_after = 6  # the model fails mid-answer: the message shows the first words, the turn is retried
        sent = await stack.say("tell me everything")
        await llm.wait_chunks(6)
        llm.fail_with = 500  # the retry fails at once too; Stop comes while the last attempt waits its turn
        await _between_attempts(stack, sent["session_id"], 3)
        shown = await wait_streaming_text(stack.store, sent["thread"], len("word00 "))

        http = await stack.user("bob")
        resp = await http.post(
            "/webchat/api/stop", json={"channel": "general", "message_id": shown["id"], "user": "bob"}
        )
        assert resp.status_code == 202 and resp.json()["stopped"] is True
        [final] = await stack.wait_bot_messages(sent["thread"], 1, timeout=STOP_BOUND)
        assert final["id"] == shown["id"]  # the same message: its text kept, the note added
        so_far = final["text"].removesuffix(STOPPED_NOTE).rstrip()
        assert final["text"].endswith(STOPPED_NOTE) and so_far and ANSWER.startswith(so_far)

        history = await stack.client.get_workflow_handle(sent["session_id"]).fetch_history()
        scheduled = [
            e.activity_task_scheduled_event_attributes.activity_type.name
            for e in history.events
            if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED
        ]
        assert scheduled == ["stream_turn", "finish_stopped_turn"]
        state = await stack.state(sent["session_id"])
        assert state["history"][-1]["text"] == "bob stopped the reply between two attempts"
        llm.fail_with = None
        await stack.say("are you still there?", thread=sent["thread"])
        bots = await stack.wait_bot_messages(sent["thread"], 2)
        assert [m["text"] for m in bots] == [final["text"], ANSWER]
