"""Fault case 2: the Temporal server stops mid-conversation and comes back on the same database.

Promise: every message sent during the outage, in the web chat and in Slack (signed
events through the real gateway, replies to the local fake Slack Web API), is answered
after recovery without a resend; each thread hears "catching up" once; the sessions go
on with their counts intact. 90 s outage at full scale, a few seconds in CI.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import httpx

from adapters.base import CATCHING_UP_TEXT
from tests.faults.support import (
    Deployment,
    answer_numbers,
    catching_up_notes,
    figure,
    say,
    scaled,
    thread_messages,
    until,
)
from tests.slack.fake_slack import BOT_TOKEN, FakeSlack
from tests.slack.support import SIGNING_SECRET, SlackSim

ANSWER_DEADLINE = 240.0


def _slack_answers(fake: FakeSlack, channel: str, thread_ts: str) -> list[str]:
    return [p["text"] for p in fake.posts(channel, thread_ts) if p["text"] != CATCHING_UP_TEXT]


async def test_temporal_restart_answers_everything_sent_during_the_outage(tmp_path: Path):
    outage = scaled(4.0, 90.0)
    during = scaled(2, 4)  # messages per thread sent while Temporal is down
    fake = FakeSlack()
    await fake.start()
    fake.add_user("UALICE", "Alice")
    deployment = Deployment(
        tmp_path,
        SLACK_BOT_TOKEN=BOT_TOKEN,
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        SLACK_API_URL=fake.api_url,
        THREADWORK_QUEUE_INLINE_TIMEOUT="2",
    )
    try:
        await deployment.temporal.start()
        await deployment.start_worker()
        async with httpx.AsyncClient(base_url=deployment.base_url, timeout=60) as http:
            await deployment.start_gateway(http)
            procs = deployment.processes()
            sim = SlackSim(http, fake)

            # Before: one answered message in each platform's thread.
            web = await say(http, "hello before the pause")
            thread = web["thread"]
            root = await sim.mention("C1", "UALICE", "hello before the pause")

            async def first_answers() -> bool:
                return (
                    len(answer_numbers(await thread_messages(http, thread))) == 1
                    and len(_slack_answers(fake, "C1", root["ts"])) == 1
                )

            await until("the first answers", first_answers, 60, *procs)

            await deployment.temporal.stop()
            stopped = time.monotonic()
            for n in range(during):
                sent = await say(http, f"hello during the pause {n}", thread)
                assert sent["queued"] is True
                await sim.mention("C1", "UALICE", f"hello during the pause {n}", thread_ts=root["ts"])

            # Both threads are told while Temporal is still down (a Slack message's inline attempt
            # can outlast a short outage on a loaded machine, and then nothing was waiting).
            async def told() -> bool:
                slack_told = [p["text"] for p in fake.posts("C1", root["ts"])].count(CATCHING_UP_TEXT) >= 1
                return slack_told and catching_up_notes(await thread_messages(http, thread)) >= 1

            await until("the catching-up notes during the outage", told, 60, *procs)
            await asyncio.sleep(max(0.0, outage - (time.monotonic() - stopped)))
            await deployment.restart_temporal()
            restarted = time.monotonic()

            async def all_answered() -> bool:
                web_done = len(answer_numbers(await thread_messages(http, thread))) >= 1 + during
                return web_done and len(_slack_answers(fake, "C1", root["ts"])) >= 1 + during

            await until("the answers after recovery", all_answered, ANSWER_DEADLINE, *procs)
            recovered = time.monotonic() - restarted
            await asyncio.sleep(2)

            shown = await thread_messages(http, thread)
            assert answer_numbers(shown) == list(range(1, during + 2))
            assert catching_up_notes(shown) == 1
            slack_texts = [p["text"] for p in fake.posts("C1", root["ts"])]
            assert slack_texts.count(CATCHING_UP_TEXT) == 1, slack_texts
            assert [int(t.split("message ")[1].split(" ")[0]) for t in _slack_answers(fake, "C1", root["ts"])] == list(
                range(1, during + 2)
            )
            # The sessions went on: the same workflows, every message counted once.
            for session_id in (web["session_id"], f"slack:T1:C1:{root['ts']}"):
                state = await _state(deployment, session_id)
                assert state.message_count == 1 + during, (session_id, state)
            figure(
                "temporal-outage",
                f"{outage:.0f}s outage, {during} web chat + {during} Slack messages sent during it: all answered "
                f"{recovered:.1f}s after Temporal was back, no resend, one notice per thread, counts intact",
            )
    finally:
        await deployment.close()
        await fake.stop()


async def _state(deployment: Deployment, session_id: str):
    from bots.temporal import connect
    from workflows.chat_session import ChatSessionWorkflow

    client = await connect(deployment.temporal.address)
    return await client.get_workflow_handle(session_id).query(ChatSessionWorkflow.get_session_state)
