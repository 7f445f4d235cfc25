"""Fault case: Slack accepts the reply's post and the worker dies before it hears the answer (issue 12).

The built-in responder's reply is posted by the turn's local activity (the fast path). Here the
fake Slack stores the post and SIGKILLs the worker before answering, so nothing of the post
reached the post log or Temporal. The restarted worker runs the turn again (its workflow task
timed out); the local activity starts at attempt 1, finds the "may have posted" mark the first
run left in the post log (shared data dir), looks the post up by its message metadata and does
not post again. Promise: the reply appears once.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from adapters.user_notice import CATCHING_UP_TEXT
from bots.temporal import connect
from tests.faults.support import Deployment, Process, figure, until
from tests.slack.fake_slack import BOT_TOKEN, FakeSlack
from tests.slack.support import SIGNING_SECRET, SlackSim
from workflows.chat_session import ChatSessionWorkflow

pytestmark = pytest.mark.timeout(240)

ANSWER_DEADLINE = 90.0  # the workflow task timeout (10 s) plus a worker start on a busy host
SETTLE = 2.0  # time for a wrongly repeated post to show up


class KillingSlack(FakeSlack):
    """Stores the first chat.postMessage, then SIGKILLs the worker before answering it."""

    def __init__(self) -> None:
        super().__init__()
        self.victim: Process | None = None

    def _chat_postMessage(self, p: dict, token: str) -> dict[str, Any]:
        result = super()._chat_postMessage(p, token)
        if self.victim is not None:
            self.victim.kill()
            self.victim = None
        return result


async def test_worker_killed_after_slack_accepted_the_post_posts_it_once(tmp_path: Path):
    fake = KillingSlack()
    await fake.start()
    fake.add_user("UALICE", "Alice")
    deployment = Deployment(
        tmp_path, SLACK_BOT_TOKEN=BOT_TOKEN, SLACK_SIGNING_SECRET=SIGNING_SECRET, SLACK_API_URL=fake.api_url
    )
    try:
        await deployment.temporal.start()
        await deployment.start_worker()
        async with httpx.AsyncClient(base_url=deployment.base_url, timeout=60) as http:
            await deployment.start_gateway(http)
            fake.victim = deployment.worker
            sim = SlackSim(http, fake)
            root = await sim.mention("C1", "UALICE", "answer me exactly once")
            first = deployment.worker
            assert first is not None

            async def killed() -> bool:
                return not first.alive()

            await until("Slack to accept the post and the worker to die", killed, ANSWER_DEADLINE, deployment.gateway)
            replies = [p for p in fake.posts("C1", root["ts"]) if "message 1" in p["text"]]
            assert len(replies) == 1  # accepted by Slack; the worker never heard of it
            await deployment.start_worker()
            restarted = time.monotonic()

            client = await connect(deployment.temporal.address)
            handle = client.get_workflow_handle(f"slack:T1:C1:{root['ts']}")

            async def answered() -> bool:
                state = await handle.query(ChatSessionWorkflow.get_session_state)
                return state.history[-1].role == "assistant"

            await until("the session to record its answer", answered, ANSWER_DEADLINE, *deployment.processes())
            took = time.monotonic() - restarted
            await asyncio.sleep(SETTLE)
            replies = [p for p in fake.posts("C1", root["ts"]) if "message 1" in p["text"]]
            assert len(replies) == 1, [p["text"] for p in fake.posts("C1", root["ts"])]
            # The retried turn found its post by metadata (the post log never recorded it).
            lookups = [c for c in fake.calls if str(c.params.get("include_all_metadata", "")).lower() in ("1", "true")]
            assert lookups, "the retried turn did not look for its earlier post"
            assert "found in Slack by its metadata" in (tmp_path / "worker-3.log").read_text(errors="replace")
            notices = sum(CATCHING_UP_TEXT in p["text"] for p in fake.posts("C1", root["ts"]))
            assert len(fake.calls_to("chat.postMessage")) == 1 + notices
            figure(
                "slack fast-path post accepted, worker killed",
                f"1 reply; {len(fake.calls_to('chat.postMessage'))} chat.postMessage calls (the reply, and "
                f"{notices} catching-up notice from the gateway), {len(lookups)} metadata lookup(s); "
                f"answer recorded {took:.1f} s after the worker restarted",
            )
    finally:
        await deployment.close()
        await fake.stop()
