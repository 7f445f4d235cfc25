"""Fault case 8: the gateway dies after the web chat stored a user's message, before the inbound queue had it.

The web chat stores a message first (nothing typed is lost while Temporal is down), then
hands it to the queue. Here the queue's SQLite file is write-locked by the test (as a
backup or another process could hold it), so the gateway is caught in exactly that window:
the message is stored and shown, its request still waiting. The gateway is SIGKILLed there.
The promise: the next gateway finds the message's hand-over (written with the message, in
one transaction) and the message is answered once, without a resend.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from pathlib import Path

import httpx

from tests.faults.support import Deployment, answer_numbers, figure, thread_messages, until

ANSWER_DEADLINE = 120.0
MESSAGE_ID = "typed-just-before-the-kill"


async def test_a_stored_web_chat_message_survives_the_gateway_dying_before_the_queue(tmp_path: Path):
    deployment = Deployment(tmp_path, THREADWORK_WEBCHAT_REPLAY_AFTER="1")
    try:
        await deployment.temporal.start()
        await deployment.start_worker()
        async with httpx.AsyncClient(base_url=deployment.base_url, timeout=60) as http:
            await deployment.start_gateway(http)
            # Hold the queue file's write lock: the gateway's enqueue waits for it (busy timeout 30 s).
            lock = sqlite3.connect(tmp_path / "data" / "inbound-queue.sqlite3", isolation_level=None)
            lock.execute("BEGIN IMMEDIATE")
            try:
                request = asyncio.create_task(
                    http.post(
                        "/webchat/api/messages",
                        json={
                            "channel": "general",
                            "user": "dana",
                            "text": "is checkout healthy?",
                            "message_id": MESSAGE_ID,
                        },
                    )
                )

                async def stored() -> bool:
                    return any(m["id"] == MESSAGE_ID for m in await thread_messages(http, MESSAGE_ID))

                await until("the message to be stored", stored, 60, *deployment.processes())
                assert not request.done()  # still waiting for the queue: no 202 yet
                assert deployment.gateway is not None
                deployment.gateway.kill()
                killed = time.monotonic()
            finally:
                lock.execute("ROLLBACK")
                lock.close()
            assert isinstance((await asyncio.gather(request, return_exceptions=True))[0], httpx.HTTPError)

            await deployment.start_gateway(http)

            async def answered() -> list[int]:
                return answer_numbers(await thread_messages(http, MESSAGE_ID))

            await until("the answer after the restart", answered, ANSWER_DEADLINE, *deployment.processes())
            last_answer = time.monotonic() - killed
            await asyncio.sleep(3)  # a second hand-over would be answered by now (rounds every 0.5 s)
            shown = await thread_messages(http, MESSAGE_ID)
            assert answer_numbers(shown) == [1], shown
            assert [m["text"] for m in shown if not m["is_bot"]] == ["is checkout healthy?"]
            log = deployment.gateway.log.read_text()
            assert f"handing over message {MESSAGE_ID}" in log
            figure("webchat-stored-then-killed", f"answered once, {last_answer:.1f}s after the kill (restart included)")
    finally:
        await deployment.close()
