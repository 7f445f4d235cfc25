"""Streamed replies in Teams with the model's tools on (the default, issue 13): in a 1:1 chat the
tool loop's model call streams its text answer into one final message."""

from __future__ import annotations

import asyncio

from tests.fake_openai import fake_openai
from tests.streaming_support import ANSWER
from tests.support.stack import running_stack
from tests.teams.activities import TENANT, activity
from tests.teams.conftest import send
from tests.teams.test_teams_streamed_replies import _slow, _until


async def test_tool_loop_reply_in_a_personal_chat_streams_and_ends_as_one_final_message(client, tmp_path, connector):
    conv = "a:teams-tool-stream-1"
    async with (
        fake_openai() as llm,
        running_stack(
            client, tmp_path, teams_enabled=True, teams_service_url=connector.url, llm_base_url=llm.base_url
        ) as stack,
    ):
        _slow(llm)
        assert (await send(stack, activity(connector.url, conv, text="tell me everything"))).status_code == 201
        await _until(
            "the final message", lambda: any(s.state == "final" for s in connector.streams.in_conversation(conv))
        )
        [streamed] = connector.streams.in_conversation(conv)
        assert len(streamed.chunks) >= 3, streamed.chunks  # it arrived as a stream
        assert streamed.final is not None and streamed.final["text"] == ANSWER
        await asyncio.sleep(0.5)  # a second message would arrive now
        assert connector.messages(conv) == [ANSWER]
        assert [c.new_id for c in connector.posts(conv)] == [streamed.stream_id]  # the final message only
        [asked] = llm.tool_requests
        assert asked["stream"] is True and asked["tools"]
        state = await stack.state(f"teams:{TENANT}:{conv}")
        assert state["history"][-1]["text"] == ANSWER
