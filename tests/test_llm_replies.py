"""Replies from an OpenAI-compatible endpoint, with the conversation history; failure -> fallback."""

from __future__ import annotations

from tests.fake_openai import fake_openai
from tests.support.helpers import eventually
from tests.support.stack import running_stack


async def test_llm_answers_with_conversation_history(client, tmp_path):
    async with (
        fake_openai() as llm,
        running_stack(
            client, tmp_path, llm_base_url=llm.base_url, llm_model="test-model", llm_api_key="sk-test"
        ) as stack,
    ):
        first = await stack.say("what is our rollback procedure?", user="carol")
        bot = await stack.wait_bot_messages(first["thread"], 1)
        assert bot[0]["text"] == "LLM heard: carol: what is our rollback procedure?"
        await stack.say("and for the database?", thread=first["thread"], user="carol")
        bot = await stack.wait_bot_messages(first["thread"], 2)
        assert bot[1]["text"] == "LLM heard: carol: and for the database?"

        second_request = llm.requests[-1]
        assert second_request["auth"] == "Bearer sk-test"
        assert second_request["body"]["model"] == "test-model"
        contents = [m["content"] for m in second_request["body"]["messages"]]
        assert contents[0].startswith("You are threadwork")
        assert contents[1:] == [
            "carol: what is our rollback procedure?",
            "LLM heard: carol: what is our rollback procedure?",
            "carol: and for the database?",
        ]
        # Commands are answered by the built-in responder, not the model.
        calls = len(llm.requests)
        await stack.say("status", thread=first["thread"], user="carol")
        bot = await stack.wait_bot_messages(first["thread"], 3)
        assert "This conversation:" in bot[2]["text"] and len(llm.requests) == calls


async def test_llm_failure_is_retried_then_answered_politely(client, tmp_path):
    async with fake_openai() as llm, running_stack(client, tmp_path, llm_base_url=llm.base_url) as stack:
        llm.fail_with = 503
        first = await stack.say("are you there?")
        bot = await stack.wait_bot_messages(first["thread"], 1, timeout=30)
        assert "couldn't come up with an answer" in bot[0]["text"]
        assert len(llm.requests) == 3  # the activity's retry policy: three attempts
        state = await stack.state(first["session_id"])
        assert state["message_count"] == 1
        assert state["history"][-1]["text"] == bot[0]["text"]


async def test_a_stopped_worker_hangs_up_on_the_model(client, tmp_path):
    """The model client's kept-alive connection closes with the worker, not whenever it is collected."""
    async with fake_openai() as llm:
        async with running_stack(client, tmp_path, llm_base_url=llm.base_url) as stack:
            first = await stack.say("are you there?")
            await stack.wait_bot_messages(first["thread"], 1)
            assert llm.open_connections() == 1  # kept for the next call

        async def still_open() -> int:
            return llm.open_connections()

        await eventually(still_open, lambda n: n == 0, timeout=10, what="the worker to close its model connection")
