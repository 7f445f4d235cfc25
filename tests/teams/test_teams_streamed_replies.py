"""Streamed replies in Teams through the real gateway, worker and session (issue 13).

1:1 chats stream (informative update, cumulative chunks, one final message); the user's
Stop ends the turn in the workflow and the next message is answered (how fast Stop is:
python -m bench.stop); group chats get a placeholder that is updated into the one reply.
"""

from __future__ import annotations

import asyncio

from temporalio.api.enums.v1 import EventType

from tests.fake_openai import fake_openai
from tests.streaming_support import ANSWER, CHUNK_DELAY, CHUNKS, STOP_BOUND, STOP_CHUNK_DELAY
from tests.support.helpers import eventually
from tests.support.stack import running_stack
from tests.teams.activities import TENANT, activity
from tests.teams.conftest import send
from tests.teams.streaming_support import until as _until
from workflows.stream_contracts import STOPPED_NOTE


def _slow(llm) -> None:
    llm.answer = ANSWER
    llm.stream_chunks = CHUNKS
    llm.chunk_delay = CHUNK_DELAY


async def test_slow_reply_in_a_personal_chat_streams_and_ends_as_one_final_message(client, tmp_path, connector):
    conv = "a:teams-stream-1"
    async with (
        fake_openai() as llm,
        running_stack(
            client,
            tmp_path,
            teams_enabled=True,
            teams_service_url=connector.url,
            llm_base_url=llm.base_url,
            llm_tools=False,  # the stream_turn path (without the tool loop)
        ) as stack,
    ):
        _slow(llm)
        assert (await send(stack, activity(connector.url, conv, text="tell me everything"))).status_code == 201
        await _until(
            "the final message", lambda: any(s.state == "final" for s in connector.streams.in_conversation(conv))
        )

        [streamed] = connector.streams.in_conversation(conv)
        assert streamed.informative == ["thinking…"]
        assert len(streamed.chunks) >= 3, streamed.chunks  # it arrived as a stream
        assert streamed.final is not None and streamed.final["text"] == ANSWER
        assert connector.streams.refusals == []
        await asyncio.sleep(0.5)  # a second message would arrive now
        assert connector.messages(conv) == [ANSWER]
        assert [c.new_id for c in connector.posts(conv)] == [streamed.stream_id]  # the final message only

        state = await stack.state(f"teams:{TENANT}:{conv}")
        assert state["history"][-1]["text"] == ANSWER


async def test_stop_in_teams_ends_the_turn_and_the_next_message_is_answered(client, tmp_path, connector):
    conv = "a:teams-stream-2"
    session_id = f"teams:{TENANT}:{conv}"
    async with (
        fake_openai() as llm,
        running_stack(
            client,
            tmp_path,
            teams_enabled=True,
            teams_service_url=connector.url,
            llm_base_url=llm.base_url,
            llm_tools=False,  # the stream_turn path (without the tool loop)
        ) as stack,
    ):
        _slow(llm)
        llm.chunk_delay = STOP_CHUNK_DELAY  # about 20 s in all: only Stop ends it within STOP_BOUND
        assert (await send(stack, activity(connector.url, conv, text="tell me everything"))).status_code == 201
        await _until(
            "a few streamed words",
            lambda: any(len(s.text) >= len("word00 word01 ") for s in connector.streams.in_conversation(conv)),
        )

        pressed = asyncio.get_running_loop().time()
        stopped = connector.streams.press_stop(conv)
        # How fast is a benchmark figure (python -m bench.stop), not asserted here.
        await _until("the stopped message", lambda: bool(stopped.updates), timeout=STOP_BOUND)
        took = asyncio.get_running_loop().time() - pressed
        print(f"\nFIGURE teams stop: the stopped message final {took:.2f} s after the press", flush=True)
        [shown] = connector.messages(conv)
        so_far = shown.removesuffix(STOPPED_NOTE).rstrip()
        assert shown.endswith(STOPPED_NOTE) and ANSWER.startswith(so_far) and len(so_far) < len(ANSWER)

        # The workflow cancelled the turn's activity and says who stopped it.
        history = await stack.client.get_workflow_handle(session_id).fetch_history()
        assert EventType.EVENT_TYPE_ACTIVITY_TASK_CANCEL_REQUESTED in [e.event_type for e in history.events]
        # The message is final just before the activity returns; the session records the Stop right after.
        state = await eventually(
            lambda: stack.state(session_id),
            lambda s: s["history"][-1]["role"] == "system",
            timeout=STOP_BOUND,
            what="the Stop in the session's history",
        )
        assert "stopped the reply" in state["history"][-1]["text"]
        assert state["history"][-1]["text"].startswith("Alice Example")

        llm.chunk_delay = 0.0
        assert (await send(stack, activity(connector.url, conv, text="are you still there?"))).status_code == 201
        await _until("the next reply", lambda: len(connector.messages(conv)) == 2)
        await _until("its final message", lambda: connector.messages(conv)[1] == ANSWER)


async def test_group_chat_gets_a_placeholder_updated_into_one_message(client, tmp_path, connector):
    group = "19:team-group@thread.v2"
    async with (
        fake_openai() as llm,
        running_stack(
            client,
            tmp_path,
            teams_enabled=True,
            teams_service_url=connector.url,
            llm_base_url=llm.base_url,
            llm_tools=False,  # the stream_turn path (without the tool loop)
        ) as stack,
    ):
        _slow(llm)
        body = activity(connector.url, group, text="tell me everything", conversation_type="groupChat")
        assert (await send(stack, body)).status_code == 201
        await _until("the full reply", lambda: connector.messages(group) == [ANSWER])

        [placeholder] = connector.posts(group)
        assert placeholder.text == "thinking…"
        updates = [c.text for c in connector.updates(group)]
        assert len(updates) >= 2 and updates[-1] == ANSWER  # growing, then whole
        assert connector.streams.in_conversation(group) == []
        await asyncio.sleep(0.5)
        assert connector.messages(group) == [ANSWER]
