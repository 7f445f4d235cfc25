"""Streamed replies in Slack (issue 13), through the real stack: one message that grows by
chat.startStream / appendStream and ends whole; the 429 fallback; Slack's Stop button
(agent_session_stopped) cancelling the turn in the workflow; feedback buttons; agent sessions."""

from __future__ import annotations

import asyncio
import json

from temporalio.api.enums.v1 import EventType
from temporalio.service import RPCError

from tests.fake_openai import fake_openai
from tests.slack.conftest import slack_stack
from tests.slack.fake_slack import Fault
from tests.streaming_support import STOP_BOUND, STOP_CHUNK_DELAY
from workflows.stream_contracts import STOPPED_NOTE

CHUNKS = 20
CHUNK_DELAY = 0.1
ANSWER = " ".join(f"word{n:02d}" for n in range(CHUNKS))
SETTLE = 1.0  # time for a wrongly posted second message to show up
DM = "D5STREAM"


def slow(llm, delay: float = CHUNK_DELAY) -> None:
    llm.answer = ANSWER
    llm.stream_chunks = CHUNKS
    llm.chunk_delay = delay


async def final_reply(stack, fake, root_ts: str | None, n: int = 1, channel: str = "C1") -> list[dict]:
    """The thread's bot messages once the session recorded ``n`` answers (each turn finished its message first)."""
    session_id = f"slack:T1:{channel}:{root_ts or 'dm'}"
    try:
        async with asyncio.timeout(30):
            while True:
                try:
                    state = await stack.state(session_id)
                except RPCError:  # not started yet: Slack's event is acknowledged before the session exists
                    state = None
                if state and len([h for h in state["history"] if h["role"] == "assistant"]) >= n:
                    return fake.posts(channel, root_ts)
                await asyncio.sleep(0.05)
    except TimeoutError:
        raise AssertionError(
            f"{session_id} did not record {n} answers: {fake.posts(channel, root_ts, streaming=True)}"
        ) from None


async def wait_stopped(stack, session_id: str) -> None:
    """Until the session recorded the Stop (its history ends with who stopped it), bounded by STOP_BOUND."""
    try:
        async with asyncio.timeout(STOP_BOUND):
            while True:
                if (await stack.state(session_id))["history"][-1]["role"] == "system":
                    return
                await asyncio.sleep(0.05)
    except TimeoutError:
        raise AssertionError(f"{session_id} did not record the Stop within {STOP_BOUND:.0f} s") from None


def shown_text(message: dict) -> str:
    """What a message shows: a stream's markdown, or an updated message's first section."""
    if message.get("edited"):
        return message["blocks"][0]["text"]["text"].strip()
    return message["text"].strip()


async def test_slow_model_reply_streams_and_ends_as_one_message_with_the_full_text(client, tmp_path, fake_slack):
    async with (
        fake_openai() as llm,
        slack_stack(client, tmp_path, fake_slack, llm_base_url=llm.base_url, llm_tools=False) as (stack, sim),
    ):
        slow(llm)
        root = await sim.mention("C1", "UALICE", "tell me everything")
        [reply] = await final_reply(stack, fake_slack, root["ts"])
        await asyncio.sleep(SETTLE)
        assert len(fake_slack.posts("C1", root["ts"])) == 1
        assert reply["text"] == ANSWER and reply["thread_ts"] == root["ts"]

        # It arrived as a stream: one start (for Alice, in team T1), several appends, one stop.
        [start] = fake_slack.calls_to("chat.startStream")
        assert (start.params["recipient_user_id"], start.params["recipient_team_id"]) == ("UALICE", "T1")
        appends = fake_slack.calls_to("chat.appendStream")
        assert len(appends) >= 3 and len(fake_slack.calls_to("chat.stopStream")) == 1
        assert reply["stream_calls"] == 2 + len(appends)
        assert not fake_slack.calls_to("chat.postMessage")
        assert ("C1", root["ts"], "thinking…") in fake_slack.statuses
        assert [b["type"] for b in reply["blocks"]] == ["context_actions"]  # feedback buttons
        assert llm.requests[-1]["body"]["stream"] is True

        # The workflow recorded the final text only.
        session_id = f"slack:T1:C1:{root['ts']}"
        state = await stack.state(session_id)
        assert state["history"][-1] == state["history"][-1] | {"role": "assistant", "text": ANSWER}


async def test_model_replies_stream_in_dm_threads_too(client, tmp_path, fake_slack):
    dm = "D5STREAMLLM"  # not the builtin tests' DM: its top-level session id is shared on this Temporal server
    async with (
        fake_openai() as llm,
        slack_stack(client, tmp_path, fake_slack, llm_base_url=llm.base_url, llm_tools=False) as (stack, sim),
    ):
        slow(llm, 0.0)
        await sim.event(sim.message(dm, "UALICE", "hi in a DM"))
        # Top-level DM: posted, then updated (no thread to stream in).
        [top] = await final_reply(stack, fake_slack, None, channel=dm)
        assert top["channel"] == dm and shown_text(top) == ANSWER
        assert not fake_slack.calls_to("chat.startStream")

        await sim.event(sim.message(dm, "UALICE", "a thread in the DM", thread_ts=top["ts"]))
        [threaded] = await final_reply(stack, fake_slack, top["ts"], channel=dm)
        assert threaded["text"] == ANSWER and not threaded.get("edited")
        [start] = fake_slack.calls_to("chat.startStream")
        assert start.params["channel"] == dm and "recipient_user_id" not in start.params


async def test_built_in_replies_are_posted_whole_in_threads_and_dms(slack):
    """The built-in responder's reply is whole at once: one chat.postMessage, no stream (issue 12)."""
    stack, sim = slack
    # A DM of its own: the top-level DM session id (slack:T1:D...:dm) is the same in every test on this Temporal server.
    await sim.event(sim.message(DM, "UALICE", "hi in a DM"))
    [top] = await final_reply(stack, sim.fake, None, channel=DM)
    assert top["channel"] == DM and "message 1" in top["text"] and not top.get("edited")

    await sim.event(sim.message(DM, "UALICE", "a thread in the DM", thread_ts=top["ts"]))
    [threaded] = await final_reply(stack, sim.fake, top["ts"], channel=DM)
    assert "message 1" in threaded["text"] and not threaded.get("edited")
    assert not sim.fake.calls_to("chat.startStream") and not sim.fake.calls_to("chat.update")
    assert len(sim.fake.calls_to("chat.postMessage")) == 2


async def test_start_stream_answering_429_still_delivers_the_reply_once(client, tmp_path, fake_slack):
    fake_slack.start_stream_429 = True
    async with (
        fake_openai() as llm,
        slack_stack(client, tmp_path, fake_slack, llm_base_url=llm.base_url, llm_tools=False) as (stack, sim),
    ):
        slow(llm, 0.02)
        root = await sim.mention("C1", "UALICE", "are streams rate limited?")
        [reply] = await final_reply(stack, fake_slack, root["ts"])
        await asyncio.sleep(SETTLE)
        assert len(fake_slack.posts("C1", root["ts"])) == 1
        assert shown_text(reply) == ANSWER
        assert len(fake_slack.calls_to("chat.startStream")) == 1  # refused once, not retried
        assert len(fake_slack.calls_to("chat.postMessage")) == 1 and fake_slack.calls_to("chat.update")
        state = await stack.state(f"slack:T1:C1:{root['ts']}")
        assert state["history"][-1]["text"] == ANSWER


async def test_slacks_stop_button_ends_the_turn_in_the_workflow_and_the_next_message_is_answered(
    client, tmp_path, fake_slack
):
    async with (
        fake_openai() as llm,
        slack_stack(client, tmp_path, fake_slack, llm_base_url=llm.base_url, llm_tools=False, slack_agent=True) as (
            stack,
            sim,
        ),
    ):
        slow(llm, STOP_CHUNK_DELAY)  # about 20 s in all: only Stop ends it within STOP_BOUND
        root = await sim.mention("C1", "UALICE", "tell me everything")
        thread = ("C1", root["ts"])
        await llm.wait_chunks(4)
        streaming = await fake_slack.wait_for(
            lambda: [m for m in fake_slack.posts(*thread, streaming=True) if m.get("streaming") and m["text"]],
            what="the stream",
        )
        assert fake_slack.agent_sessions[thread] == ["processing"]

        pressed = asyncio.get_running_loop().time()
        assert (await sim.agent_stop(*thread, user="UBOB")).status_code == 200
        session_id = f"slack:T1:C1:{root['ts']}"
        # How fast is a benchmark figure (python -m bench.stop), not asserted here.
        await wait_stopped(stack, session_id)
        took = asyncio.get_running_loop().time() - pressed
        print(f"\nFIGURE slack stop: the Stop recorded by the session {took:.2f} s after the press", flush=True)

        state = await stack.state(session_id)
        so_far = state["history"][-2]["text"]
        assert ANSWER.startswith(so_far) and 0 < len(so_far) < len(ANSWER)
        assert state["history"][-1]["text"] == f"Bob stopped the reply after {len(so_far)} characters"
        history = await stack.client.get_workflow_handle(session_id).fetch_history()
        assert EventType.EVENT_TYPE_ACTIVITY_TASK_CANCEL_REQUESTED in [e.event_type for e in history.events]

        # One message, ending with the text so far and the note; the agent session is active again.
        [message] = await final_reply(stack, fake_slack, root["ts"])
        assert message["ts"] == streaming[0]["ts"] and shown_text(message).endswith(STOPPED_NOTE)
        assert fake_slack.agent_sessions[thread][-1] == "active"

        # The next message is answered in full, in its own message.
        llm.chunk_delay = 0.0
        await sim.event(sim.message("C1", "UALICE", "are you still there?", thread_ts=root["ts"]))
        replies = await final_reply(stack, fake_slack, root["ts"], 2)
        assert replies[1]["text"] == ANSWER
        assert fake_slack.agent_sessions[thread] == ["processing", "active", "processing", "active"]

        # Ending the session closes its agent session.
        await sim.event(sim.message("C1", "UALICE", "end", thread_ts=root["ts"]))
        await fake_slack.wait_for(
            lambda: fake_slack.agent_sessions[thread][-1] == "closed", what="the closed agent session"
        )


async def test_stop_with_nothing_running_moves_the_agent_session_on(client, tmp_path, fake_slack):
    async with slack_stack(client, tmp_path, fake_slack, slack_agent=True) as (stack, sim):
        root = await sim.mention("C1", "UALICE", "hello")
        await final_reply(stack, fake_slack, root["ts"])
        thread = ("C1", root["ts"])
        # The built-in reply was posted at once: no turn ran long enough to show as processing.
        assert fake_slack.agent_sessions.get(thread, []) == []
        assert (await sim.agent_stop(*thread)).status_code == 200
        await fake_slack.wait_for(
            lambda: fake_slack.agent_sessions.get(thread) == ["active"],
            what="the session set active after a Stop that stopped nothing",
        )
        assert len(fake_slack.posts("C1", root["ts"])) == 1


async def test_feedback_buttons_are_recorded_by_the_session_and_acknowledged(client, tmp_path, fake_slack):
    async with (
        fake_openai() as llm,
        slack_stack(client, tmp_path, fake_slack, llm_base_url=llm.base_url, llm_tools=False) as (stack, sim),
    ):
        slow(llm, 0.0)
        await _feedback_is_recorded(stack, sim)


async def _feedback_is_recorded(stack, sim) -> None:
    root = await sim.mention("C1", "UALICE", "hello")
    [reply] = await final_reply(stack, sim.fake, root["ts"])
    assert (await sim.click_feedback(reply, positive=False, user="UBOB")).status_code == 200
    await sim.fake.wait_for(lambda: sim.fake.ephemeral, what="the thanks")
    assert (await sim.click_feedback(reply, positive=True, user="UBOB")).status_code == 200  # changed their mind
    await sim.fake.wait_for(lambda: len(sim.fake.ephemeral) >= 2, what="the second thanks")
    assert {e["text"] for e in sim.fake.ephemeral} == {"Thanks for the feedback."}
    assert {e["user"] for e in sim.fake.ephemeral} == {"UBOB"}
    state = await stack.state(f"slack:T1:C1:{root['ts']}")
    assert [(f["actor_id"], f["rating"], f["message_id"]) for f in state["feedback"]] == [
        ("UBOB", "positive", reply["ts"])
    ]
    value = json.loads(reply["blocks"][0]["elements"][0]["positive_button"]["value"])
    assert value["w"] == f"slack:T1:C1:{root['ts']}"


async def test_slack_failing_as_the_stream_ends_still_leaves_one_message_with_the_whole_reply(
    client, tmp_path, fake_slack
):
    """chat.stopStream answers 500 for a while: the session delivers the reply itself, into the streamed message."""
    async with (
        fake_openai() as llm,
        slack_stack(client, tmp_path, fake_slack, llm_base_url=llm.base_url, llm_tools=False) as (stack, sim),
    ):
        slow(llm, 0.0)
        await _stop_stream_failing_leaves_one_message(stack, sim)


async def _stop_stream_failing_leaves_one_message(stack, sim) -> None:
    sim.fake.outage("chat.stopStream", 2.5, [Fault("500")])
    root = await sim.mention("C1", "UALICE", "hello, how are you today")
    [reply] = await final_reply(stack, sim.fake, root["ts"])
    await asyncio.sleep(SETTLE)
    assert len(sim.fake.posts("C1", root["ts"], streaming=True)) == 1
    assert not reply["streaming"] and shown_text(reply) == ANSWER
    assert len(sim.fake.calls_to("chat.startStream")) == 1 and not sim.fake.calls_to("chat.postMessage")
    assert len(sim.fake.calls_to("chat.stopStream")) >= 2  # refused, then ended once Slack was back
    state = await stack.state(f"slack:T1:C1:{root['ts']}")
    assert not state["undelivered"]


async def test_a_stop_button_ends_the_turn_of_an_app_without_agent_sessions(client, tmp_path, fake_slack):
    async with (
        fake_openai() as llm,
        slack_stack(
            client, tmp_path, fake_slack, llm_base_url=llm.base_url, llm_tools=False, slack_stop_button=True
        ) as (stack, sim),
    ):
        slow(llm, STOP_CHUNK_DELAY)  # about 20 s in all: only Stop ends it within STOP_BOUND
        root = await sim.mention("C1", "UALICE", "tell me everything")
        await llm.wait_chunks(4)
        [streaming] = await fake_slack.wait_for(
            lambda: [m for m in fake_slack.posts("C1", root["ts"], streaming=True) if m.get("streaming") and m["text"]],
            what="the stream",
        )
        as_seen = {**streaming, "blocks": list(streaming["blocks"])}  # the message as the user saw it, with Stop
        assert (await sim.click(as_seen, 0, user="UBOB")).status_code == 200
        session_id = f"slack:T1:C1:{root['ts']}"
        await wait_stopped(stack, session_id)
        state = await stack.state(session_id)
        so_far = state["history"][-2]["text"]
        assert ANSWER.startswith(so_far) and 0 < len(so_far) < len(ANSWER)
        assert state["history"][-1]["text"] == f"Bob stopped the reply after {len(so_far)} characters"

        # One message: the text so far and the note, without the Stop button; no agent session was touched.
        [message] = await final_reply(stack, fake_slack, root["ts"])
        assert message["ts"] == streaming["ts"] and shown_text(message).endswith(STOPPED_NOTE)
        assert not [b for b in message["blocks"] if b["type"] == "actions"]
        assert fake_slack.agent_sessions == {}
        # A second press finds nothing running and says so, privately.
        assert (await sim.click(as_seen, 0, user="UBOB")).status_code == 200
        await fake_slack.wait_for(
            lambda: (
                any("Nothing is running" in r.get("text", "") for r in fake_slack.responses)
                or any("Nothing is running" in e.get("text", "") for e in fake_slack.ephemeral)
            ),
            what="the private answer",
        )
