"""Fault case 3: the gateway is SIGKILLed mid-burst and started again on the same data dir.

Promise: nothing accepted is lost. Every message that got its 202 is answered, once,
without a resend: the queue entry was written before the 202, and the next gateway
drains what the dead one left (its leases run out).
"""

from __future__ import annotations

import asyncio
import re
import time
from pathlib import Path

import httpx

from tests.faults.support import Deployment, answer_numbers, figure, scaled, thread_messages, until

ANSWER_DEADLINE = 180.0


async def test_gateway_sigkilled_mid_burst_loses_nothing_accepted(tmp_path: Path):
    conversations = scaled(20, 50)
    messages = scaled(5, 10)
    # A short lease so the restarted gateway takes over the dead one's entries quickly.
    # A short lease so the restarted gateway takes over the dead one's entries quickly; few slots and a
    # short inline budget so the burst queues up and the kill finds entries waiting.
    deployment = Deployment(
        tmp_path,
        THREADWORK_QUEUE_LEASE_SECONDS="3",
        THREADWORK_QUEUE_CONCURRENCY="2",
        THREADWORK_QUEUE_INLINE_TIMEOUT="0.2",
    )
    accepted: dict[str, list[str]] = {}  # thread -> texts that got a 202
    refused = 0
    burst_accepted = 0
    kill_now = asyncio.Event()
    unexpected: list[str] = []
    try:
        await deployment.temporal.start()
        await deployment.start_worker()
        async with httpx.AsyncClient(base_url=deployment.base_url, timeout=30) as http:
            await deployment.start_gateway(http)
            # Each conversation's first message, so the burst below has threads to go to.
            for i in range(conversations):
                resp = await http.post(
                    "/webchat/api/messages",
                    json={"channel": "general", "thread": None, "user": "eve", "text": f"start {i}"},
                )
                assert resp.status_code == 202, resp.text
                accepted[resp.json()["thread"]] = [f"start {i}"]
            threads = list(accepted)

            async def burst(thread: str, i: int) -> None:
                nonlocal refused, burst_accepted
                for j in range(1, messages):
                    try:
                        resp = await http.post(
                            "/webchat/api/messages",
                            json={"channel": "general", "thread": thread, "user": "eve", "text": f"note {i}-{j}"},
                        )
                    except httpx.HTTPError:  # the gateway died under this request: not accepted, not resent
                        refused += 1
                        return
                    if resp.status_code != 202:  # recorded, so the test names it instead of timing out below
                        unexpected.append(f"{resp.status_code} {resp.text[:200]}")
                        kill_now.set()
                        return
                    accepted[thread].append(f"note {i}-{j}")
                    burst_accepted += 1
                    if burst_accepted >= conversations * (messages - 1) // 3:
                        kill_now.set()

            tasks = [asyncio.create_task(burst(t, i)) for i, t in enumerate(threads)]
            await asyncio.wait_for(kill_now.wait(), 120)
            assert unexpected == [], (
                f"answers other than 202 during the burst: {unexpected}\n{deployment.gateway.tail()}"
            )
            metrics = (await http.get("/metrics")).text
            waiting = float(re.search(r"^threadwork_inbound_queue_depth (\S+)$", metrics, re.M).group(1))
            deployment.gateway.kill()
            killed = time.monotonic()
            await asyncio.gather(*tasks)
            await deployment.start_gateway(http)

            async def all_answered() -> bool:
                for thread, texts in accepted.items():
                    if len(answer_numbers(await thread_messages(http, thread))) < len(texts):
                        return False
                return True

            await until("every accepted message answered", all_answered, ANSWER_DEADLINE, *deployment.processes())
            last_answer = time.monotonic() - killed
            await asyncio.sleep(2)
            total = 0
            for thread, texts in accepted.items():
                shown = await thread_messages(http, thread)
                user_texts = [m["text"] for m in shown if not m["is_bot"]]
                assert [t for t in texts if t not in user_texts] == [], thread
                # Answered once each: consecutive numbers, at least every accepted one (a request cut off
                # by the kill may have been stored and queued without its 202: answering it is fine too).
                numbers = answer_numbers(shown)
                assert numbers == list(range(1, len(numbers) + 1)) and len(texts) <= len(numbers) <= len(user_texts), (
                    thread,
                    shown,
                )
                total += len(texts)
            figure(
                "gateway-killed",
                f"{total} messages accepted around a gateway SIGKILL ({waiting:.0f} waiting in its queue just before the kill, "
                f"{refused} requests cut off, not accepted): "
                f"0 lost, 0 answered twice; last answer {last_answer:.1f}s after the kill",
            )
    finally:
        await deployment.close()
