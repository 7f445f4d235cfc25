"""Fault case: the worker is SIGKILLed in the middle of a Teams streamed reply, then restarted (issue 13).

Promise: the retried turn continues the stream its first attempt started (the PostedLog
remembers its streamId, sequence and text under the turn's idempotency key), so the 1:1
chat ends with exactly one message, closed by one final message with the full text. In
production shape: `threadwork gateway` and `threadwork worker` as separate processes;
the fake model streams 20 chunks, 100 ms apart, and the worker dies after chunk 10.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx

from tests.fake_openai import fake_openai
from tests.faults.support import Deployment, figure, until
from tests.streaming_support import ANSWER, CHUNK_DELAY, CHUNKS
from tests.teams.activities import activity
from tests.teams.fake_connector import start_connector

DEADLINE = 90.0


async def test_worker_sigkilled_mid_teams_stream_still_one_final_message(tmp_path: Path):
    connector, connector_runner = await start_connector()
    conv = "a:teams-killed-stream"
    try:
        async with fake_openai() as llm:
            llm.answer, llm.stream_chunks, llm.chunk_delay = ANSWER, CHUNKS, CHUNK_DELAY
            deployment = Deployment(
                tmp_path,
                THREADWORK_LLM_BASE_URL=llm.base_url,
                THREADWORK_LLM_TOOLS="false",  # the stream_turn path (without the tool loop)
                TEAMS_ENABLED="true",
                TEAMS_SERVICE_URL=connector.url,
            )
            try:
                await deployment.temporal.start()
                await deployment.start_worker()
                async with httpx.AsyncClient(base_url=deployment.base_url, timeout=60) as http:
                    await deployment.start_gateway(http)
                    resp = await http.post(
                        "/api/messages", json=activity(connector.url, conv, text="tell me everything")
                    )
                    assert resp.status_code == 201, resp.text
                    await llm.wait_chunks(CHUNKS // 2, timeout=DEADLINE)
                    assert deployment.worker is not None
                    deployment.worker.kill()

                    # The first attempt's stream is there, half-written and not closed.
                    [half] = connector.streams.in_conversation(conv)
                    assert half.state == "streaming" and ANSWER.startswith(half.text) and half.text != ANSWER
                    chunks_before = len(half.chunks)
                    await deployment.start_worker()

                    async def closed() -> bool:
                        return half.state == "final"

                    await until("the retried turn's final message", closed, DEADLINE, *deployment.processes())
                    await asyncio.sleep(2)  # a second message would arrive now
                    assert connector.streams.in_conversation(conv) == [half]
                    assert half.final is not None and half.final["text"] == ANSWER
                    assert len(half.chunks) > chunks_before  # the retry went on streaming into the same message
                    assert connector.messages(conv) == [ANSWER]
                    assert [c.new_id for c in connector.posts(conv)] == [half.stream_id]  # the final message only
                    assert connector.streams.refusals == []
                    assert len(llm.requests) == 2  # the retried attempt asked the model again
                    figure(
                        "teams-stream-worker-killed", "worker SIGKILLed after chunk 10 of 20: 1 stream, 1 final message"
                    )
            finally:
                await deployment.close()
    finally:
        await connector_runner.cleanup()
