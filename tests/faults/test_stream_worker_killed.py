"""Fault case: the worker is SIGKILLed in the middle of a streamed reply, then restarted (issue 13).

Promise: the retried turn rewrites its own message (the stream's idempotency key is the
turn's, or the tool loop's model call's, from the workflow), so the thread ends with exactly
one bot message, final, with the full text. Both turn shapes: the streamed turn (tools off)
and the tool loop's streamed model call (tools on, the default). In production shape:
`threadwork gateway` and `threadwork worker` as separate processes; the fake model streams
20 chunks, 100 ms apart, and the worker dies after chunk 10.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import httpx
import pytest

from tests.fake_openai import fake_openai
from tests.faults.support import Deployment, figure, say, thread_messages, until
from tests.streaming_support import ANSWER, CHUNK_DELAY, CHUNKS
from tests.support.stack import is_streaming

DEADLINE = 90.0


@pytest.mark.parametrize("tools", [False, True], ids=["streamed-turn", "tool-loop"])
async def test_worker_sigkilled_mid_stream_still_one_message_with_the_full_text(tmp_path: Path, tools: bool):
    async with fake_openai() as llm:
        llm.answer, llm.stream_chunks, llm.chunk_delay = ANSWER, CHUNKS, CHUNK_DELAY
        deployment = Deployment(
            tmp_path, THREADWORK_LLM_BASE_URL=llm.base_url, THREADWORK_LLM_TOOLS="true" if tools else "false"
        )
        try:
            await deployment.temporal.start()
            await deployment.start_worker()
            async with httpx.AsyncClient(base_url=deployment.base_url, timeout=60) as http:
                await deployment.start_gateway(http)
                thread = (await say(http, "tell me everything"))["thread"]
                await llm.wait_chunks(CHUNKS // 2, timeout=DEADLINE)
                assert deployment.worker is not None
                deployment.worker.kill()

                async def bots() -> list[dict]:
                    return [m for m in await thread_messages(http, thread) if m["is_bot"]]

                # The first attempt's message is there, half-written and still marked as streaming.
                [half] = await bots()
                assert is_streaming(half) and ANSWER.startswith(half["text"]) and half["text"] != ANSWER
                await deployment.start_worker()
                restarted = time.monotonic()

                async def finished() -> bool:
                    return any(not is_streaming(m) for m in await bots())

                await until("the retried turn's final message", finished, DEADLINE, *deployment.processes())
                final_after = time.monotonic() - restarted
                await asyncio.sleep(2)  # a second message would arrive now
                final = await bots()
                assert [(m["id"], m["text"], is_streaming(m)) for m in final] == [(half["id"], ANSWER, False)]
                if tools:  # the retried attempt asked the model again, with the tools, streamed
                    assert len(llm.tool_requests) == 2 and all(r["stream"] for r in llm.tool_requests)
                else:  # the retried attempt asked the model again
                    assert len(llm.requests) == 2
                figure(
                    "tool-loop-stream-worker-killed" if tools else "stream-worker-killed",
                    f"{'tools on, ' if tools else ''}worker SIGKILLed after chunk 10 of 20: 1 message, full text; "
                    f"final {final_after:.1f} s after the restart",
                )
        finally:
            await deployment.close()
