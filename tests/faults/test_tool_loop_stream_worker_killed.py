"""Fault case: with the model's tools on (the default), the worker is SIGKILLed in the middle of
the tool loop's streamed model call, then restarted (issue 13).

Promise: the retried call rewrites its own message (the stream's idempotency key is the model
call's, from the workflow), so the thread ends with exactly one bot message, final, with the
full text. Production shape: `threadwork gateway` and `threadwork worker` as separate
processes; the fake model streams 20 chunks, 100 ms apart, and the worker dies after chunk 10.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import httpx

from tests.fake_openai import fake_openai
from tests.faults.support import Deployment, figure, say, thread_messages, until
from tests.streaming_support import ANSWER, CHUNK_DELAY, CHUNKS
from tests.support.stack import is_streaming

DEADLINE = 90.0


async def test_worker_sigkilled_mid_tool_loop_stream_still_one_message_with_the_full_text(tmp_path: Path):
    async with fake_openai() as llm:
        llm.answer, llm.stream_chunks, llm.chunk_delay = ANSWER, CHUNKS, CHUNK_DELAY
        deployment = Deployment(tmp_path, THREADWORK_LLM_BASE_URL=llm.base_url)  # tools on
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
                # The retried attempt asked the model again, with the tools, streamed.
                assert len(llm.tool_requests) == 2 and all(r["stream"] for r in llm.tool_requests)
                figure(
                    "tool-loop-stream-worker-killed",
                    f"tools on, worker SIGKILLed after chunk 10 of 20: 1 message, full text; "
                    f"final {final_after:.1f} s after the restart",
                )
        finally:
            await deployment.close()
