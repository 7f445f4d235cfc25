"""Fault case: the worker is SIGKILLed in the middle of a streamed Slack reply and restarted (issue 13).

Promise: still exactly one message in the thread, ending with the full text. The retried
turn finds the message its first attempt was streaming (the PostedLog in the shared data
dir), ends that stream and replaces its text from the beginning; it never posts a second one.
Production shape: `threadwork gateway` and `threadwork worker` as separate processes, the
fake Slack Web API and the fake model (20 chunks, 100 ms apart) on loopback.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import httpx
import pytest

from tests.fake_openai import fake_openai
from tests.faults.support import Deployment, figure, until
from tests.slack.fake_slack import BOT_TOKEN, FakeSlack
from tests.slack.support import SIGNING_SECRET, SlackSim
from tests.streaming_support import ANSWER, CHUNK_DELAY, CHUNKS

pytestmark = pytest.mark.timeout(300)

KILL_AFTER_CHUNK = 10
ANSWER_DEADLINE = 120.0
SETTLE = 2.0  # time for a wrongly posted second message to show up


def shown(message: dict) -> str:
    """What a message shows: an updated message's first section, else its (streamed) text."""
    if message.get("edited"):
        return message["blocks"][0]["text"]["text"].strip()
    return message["text"].strip()


async def test_worker_sigkilled_mid_stream_leaves_exactly_one_slack_message_with_the_full_text(tmp_path: Path):
    fake = FakeSlack()
    await fake.start()
    fake.add_user("UALICE", "Alice")
    try:
        async with fake_openai() as llm:
            llm.answer, llm.stream_chunks, llm.chunk_delay = ANSWER, CHUNKS, CHUNK_DELAY
            deployment = Deployment(
                tmp_path,
                SLACK_BOT_TOKEN=BOT_TOKEN,
                SLACK_SIGNING_SECRET=SIGNING_SECRET,
                SLACK_API_URL=fake.api_url,
                THREADWORK_LLM_BASE_URL=llm.base_url,
                THREADWORK_LLM_TOOLS="false",  # the stream_turn path (without the tool loop)
            )
            try:
                await deployment.temporal.start()
                await deployment.start_worker()
                async with httpx.AsyncClient(base_url=deployment.base_url, timeout=60) as http:
                    await deployment.start_gateway(http)
                    sim = SlackSim(http, fake)
                    root = await sim.mention("C1", "UALICE", "tell me everything")
                    thread = ("C1", root["ts"])

                    await llm.wait_chunks(KILL_AFTER_CHUNK, timeout=ANSWER_DEADLINE)
                    deployment.worker.kill()  # mid-stream: chunk 10 of 20 sent, the turn half done
                    [partial] = fake.posts(*thread, streaming=True)
                    assert partial["streaming"] and ANSWER.startswith(partial["text"]) and partial["text"] != ANSWER
                    await deployment.start_worker()
                    restarted = time.monotonic()

                    async def finished() -> bool:
                        posts = fake.posts(*thread, streaming=True)
                        return any(shown(m) == ANSWER for m in posts)

                    await until("the full answer", finished, ANSWER_DEADLINE, *deployment.processes())
                    took = time.monotonic() - restarted
                    await asyncio.sleep(SETTLE)
                    [message] = fake.posts(*thread, streaming=True)
                    assert message["ts"] == partial["ts"] and not message["streaming"]
                    assert shown(message) == ANSWER
                    assert len(fake.calls_to("chat.startStream")) == 1 and not fake.calls_to("chat.postMessage")
                    assert len(llm.requests) == 2  # the retried turn asked the model again
                    figure(
                        "slack-stream-worker-killed",
                        f"worker SIGKILLed after chunk {KILL_AFTER_CHUNK} of {CHUNKS}: 1 message, full text, "
                        f"finished {took:.1f}s after the worker restarted",
                    )
            finally:
                await deployment.close()
    finally:
        await fake.stop()
