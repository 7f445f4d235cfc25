"""A stream the platform refuses (a 429 mid-stream, a surface without streaming, a gone channel):
the reply still arrives once, through the session's own post-then-update (issue 13)."""

from __future__ import annotations

import asyncio
from typing import Any

from adapters.base import PlatformError
from adapters.webchat.platform import WebChatPlatform
from adapters.webchat.stream import WebChatStream
from tests.fake_openai import fake_openai
from tests.support.stack import is_streaming, running_stack
from workflows.contracts import Actor, ConversationKey, MessageRef, Reply


class RefusingStream(WebChatStream):
    """The placeholder is posted, then every update is refused as a rate limit."""

    async def write_update(self, ref: MessageRef, reply: Reply, final: bool) -> None:
        raise PlatformError("ratelimited", retryable=True, retry_after=1)


class StreamRefused(WebChatPlatform):
    async def open_stream(
        self,
        key: ConversationKey,
        idempotency_key: str,
        recipient: Actor | None,
        *,
        context: dict[str, Any] | None = None,
    ) -> WebChatStream:
        return RefusingStream(self.store, self, key, idempotency_key)


class ChannelGone(WebChatPlatform):
    async def open_stream(
        self,
        key: ConversationKey,
        idempotency_key: str,
        recipient: Actor | None,
        *,
        context: dict[str, Any] | None = None,
    ) -> WebChatStream:
        raise PlatformError("channel_not_found")


ANSWER = "A model's answer, streamed in a few chunks."


async def test_refused_stream_still_ends_as_one_final_message(client, tmp_path):
    # A model's reply streams (the built-in responder's is posted whole, without a stream).
    async with (
        fake_openai() as llm,
        running_stack(client, tmp_path, llm_base_url=llm.base_url, llm_tools=False) as stack,
    ):
        llm.answer = ANSWER
        stack.platforms.registry.register(StreamRefused(stack.store))
        sent = await stack.say("hello")
        [reply] = await stack.wait_bot_messages(sent["thread"], 1)
        assert reply["text"] == ANSWER
        await asyncio.sleep(0.5)  # a second message would show now
        assert [m["id"] for m in await stack.bot_messages(sent["thread"], streaming=True)] == [reply["id"]]
        assert not is_streaming(reply)
        state = await stack.state(sent["session_id"])
        assert state["undelivered"] == [] and state["history"][-1]["text"] == reply["text"]


async def test_permanently_refused_stream_is_recorded_not_retried(client, tmp_path):
    async with (
        fake_openai() as llm,
        running_stack(client, tmp_path, llm_base_url=llm.base_url, llm_tools=False) as stack,
    ):
        llm.answer = ANSWER
        stack.platforms.registry.register(ChannelGone(stack.store))
        sent = await stack.say("hello")
        for _ in range(300):  # 15 s at most
            state = await stack.state(sent["session_id"])
            if state["undelivered"]:
                break
            await asyncio.sleep(0.05)
        [entry] = state["undelivered"]
        assert entry["reason"] == "channel_not_found" and entry["text"] == ANSWER
        assert await stack.bot_messages(sent["thread"], streaming=True) == []
