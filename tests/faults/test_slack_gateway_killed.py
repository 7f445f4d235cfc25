"""Fault case 7: the gateway dies after bolt acknowledged a Slack event, before the event reached the queue.

Slack is told "got it" within milliseconds, and then the listener looks up the sender
(users.info) before it queues the message. Here users.info is held, so the listener is
stuck in exactly that window when the gateway is SIGKILLed. Slack will not resend an
acknowledged event; the promise is that the next gateway replays it from the journal
(adapters/slack/received_journal.py) and the mention is answered once.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx

from tests.faults.support import Deployment, figure, until
from tests.slack.fake_slack import BOT_TOKEN, FakeSlack
from tests.slack.support import SIGNING_SECRET, SlackSim

ANSWER_DEADLINE = 120.0


async def test_an_acknowledged_slack_event_survives_the_gateway_dying_before_the_queue(tmp_path: Path):
    fake = FakeSlack()
    await fake.start()
    fake.add_user("UALICE", "Alice")
    deployment = Deployment(
        tmp_path,
        SLACK_BOT_TOKEN=BOT_TOKEN,
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        SLACK_API_URL=fake.api_url,
        THREADWORK_SLACK_REPLAY_AFTER="1",
    )
    try:
        await deployment.temporal.start()
        await deployment.start_worker()
        async with httpx.AsyncClient(base_url=deployment.base_url, timeout=60) as http:
            await deployment.start_gateway(http)
            sim = SlackSim(http, fake)
            held = fake.hold("users.info")
            root = await sim.mention("C1", "UALICE", "is checkout healthy?")  # both events answered 200 by bolt

            async def listener_waits() -> bool:
                return bool(fake.calls_to("users.info"))

            await until("the listener to ask users.info", listener_waits, 60, *deployment.processes())
            assert deployment.gateway is not None
            deployment.gateway.kill()
            del fake.gates["users.info"]
            held.set()
            await asyncio.sleep(1.5)
            assert fake.posts("C1", root["ts"]) == []  # nothing reached a session before the kill

            await deployment.start_gateway(http)

            async def answered() -> bool:
                return bool(fake.posts("C1", root["ts"]))

            await until("the answer after the restart", answered, ANSWER_DEADLINE, *deployment.processes())
            await asyncio.sleep(3)  # a second answer (the twin event, a second replay) would arrive by now
            answers = fake.posts("C1", root["ts"])
            assert len(answers) == 1, [a["text"] for a in answers]
            assert deployment.gateway is not None
            log = deployment.gateway.log.read_text()
            assert "replaying Slack event" in log
            figure(
                "slack-acked-then-killed",
                f"answered once after the restart; {log.count('replaying Slack event')} events replayed",
            )
    finally:
        await deployment.close()
        await fake.stop()
