"""Fault case 1: the worker is SIGKILLed mid-burst and restarted; no client resends.

Promise: every message the gateway took is answered once (0 lost, 0 answered twice),
in production shape: `threadwork gateway` and `threadwork worker` as separate
processes on a dev server with a file database.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import httpx

from tests.faults.support import Deployment, answer_numbers, figure, say, scaled, thread_messages, until

CONVERSATIONS = 20
MESSAGES = 10
ANSWER_DEADLINE = 180.0


async def test_worker_sigkilled_mid_burst_loses_nothing_and_answers_once(tmp_path: Path):
    deployment = Deployment(tmp_path, THREADWORK_QUEUE_INLINE_TIMEOUT="2")
    kill_after = scaled(CONVERSATIONS * MESSAGES // 3, CONVERSATIONS * MESSAGES // 3)
    sent = 0
    killed = asyncio.Event()
    try:
        await deployment.temporal.start()
        await deployment.start_worker()
        async with httpx.AsyncClient(base_url=deployment.base_url, timeout=60) as http:
            await deployment.start_gateway(http)

            async def conversation(i: int) -> str:
                nonlocal sent
                thread = None
                for j in range(MESSAGES):
                    thread = (await say(http, f"note {i}-{j}", thread))["thread"]
                    sent += 1
                    if sent == kill_after:
                        killed.set()
                return thread

            async def crash_and_restart() -> float:
                await killed.wait()
                deployment.worker.kill()  # mid-burst: updates in flight, tasks half done
                await asyncio.sleep(scaled(2.0, 5.0))
                await deployment.start_worker()
                return time.monotonic()

            restarted_task = asyncio.create_task(crash_and_restart())
            threads = await asyncio.gather(*(conversation(i) for i in range(CONVERSATIONS)))
            restarted = await restarted_task

            async def all_answered() -> bool:
                for t in threads:
                    if len(answer_numbers(await thread_messages(http, t))) < MESSAGES:
                        return False
                return True

            await until("every message answered", all_answered, ANSWER_DEADLINE, *deployment.processes())
            last_answer = time.monotonic() - restarted
            await asyncio.sleep(2)  # a duplicate answer would arrive now
            for thread in threads:
                assert answer_numbers(await thread_messages(http, thread)) == list(range(1, MESSAGES + 1)), thread
            figure(
                "worker-killed",
                f"{CONVERSATIONS}x{MESSAGES} messages, worker SIGKILLed after {kill_after}: 0 lost, 0 answered twice; "
                f"last answer {last_answer:.1f}s after the worker restarted",
            )
    finally:
        await deployment.close()
