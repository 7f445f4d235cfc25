"""Streamed replies in Slack with the model's tools on (the default, issue 13): the tool loop's
model call streams by chat.startStream / appendStream into one message, and Slack's Stop button
cancels it in the workflow."""

from __future__ import annotations

import asyncio

from temporalio.api.enums.v1 import EventType

from tests.fake_openai import fake_openai
from tests.slack.conftest import slack_stack
from tests.slack.test_streamed_replies import ANSWER, SETTLE, final_reply, shown_text, slow, wait_stopped
from tests.streaming_support import STOP_CHUNK_DELAY
from workflows.stream_contracts import STOPPED_NOTE


async def test_tool_loop_reply_streams_and_ends_as_one_message_with_the_full_text(client, tmp_path, fake_slack):
    async with (
        fake_openai() as llm,
        slack_stack(client, tmp_path, fake_slack, llm_base_url=llm.base_url) as (stack, sim),
    ):
        slow(llm)
        root = await sim.mention("C1", "UALICE", "tell me everything")
        [reply] = await final_reply(stack, fake_slack, root["ts"])
        await asyncio.sleep(SETTLE)
        assert len(fake_slack.posts("C1", root["ts"])) == 1
        assert reply["text"] == ANSWER and reply["thread_ts"] == root["ts"]
        [start] = fake_slack.calls_to("chat.startStream")
        assert start.params["recipient_user_id"] == "UALICE"
        assert len(fake_slack.calls_to("chat.appendStream")) >= 3 and len(fake_slack.calls_to("chat.stopStream")) == 1
        assert not fake_slack.calls_to("chat.postMessage")
        [asked] = llm.tool_requests
        assert asked["stream"] is True and asked["tools"]


async def test_slacks_stop_button_cancels_the_tool_loop_model_call(client, tmp_path, fake_slack):
    async with (
        fake_openai() as llm,
        slack_stack(client, tmp_path, fake_slack, llm_base_url=llm.base_url, slack_agent=True) as (stack, sim),
    ):
        slow(llm, STOP_CHUNK_DELAY)  # about 20 s in all: only Stop ends it within STOP_BOUND
        root = await sim.mention("C1", "UALICE", "tell me everything")
        thread = ("C1", root["ts"])
        await llm.wait_chunks(4)
        streaming = await fake_slack.wait_for(
            lambda: [m for m in fake_slack.posts(*thread, streaming=True) if m.get("streaming") and m["text"]],
            what="the stream",
        )
        pressed = asyncio.get_running_loop().time()
        assert (await sim.agent_stop(*thread, user="UBOB")).status_code == 200
        session_id = f"slack:T1:C1:{root['ts']}"
        # How fast is a benchmark figure (python -m bench.stop), not asserted here.
        await wait_stopped(stack, session_id)
        took = asyncio.get_running_loop().time() - pressed
        print(
            f"\nFIGURE slack stop (tools on): the Stop recorded by the session {took:.2f} s after the press", flush=True
        )

        state = await stack.state(session_id)
        so_far = state["history"][-2]["text"]
        assert ANSWER.startswith(so_far) and 0 < len(so_far) < len(ANSWER)
        assert state["history"][-1]["text"] == f"Bob stopped the reply after {len(so_far)} characters"
        history = await stack.client.get_workflow_handle(session_id).fetch_history()
        assert EventType.EVENT_TYPE_ACTIVITY_TASK_CANCEL_REQUESTED in [e.event_type for e in history.events]
        [message] = await final_reply(stack, fake_slack, root["ts"])
        assert message["ts"] == streaming[0]["ts"] and shown_text(message).endswith(STOPPED_NOTE)

        llm.chunk_delay = 0.0
        await sim.event(sim.message("C1", "UALICE", "are you still there?", thread_ts=root["ts"]))
        replies = await final_reply(stack, fake_slack, root["ts"], 2)
        assert replies[1]["text"] == ANSWER
