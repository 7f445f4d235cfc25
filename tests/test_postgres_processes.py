"""Production shape on one PostgreSQL database: two `threadwork worker` and two `threadwork gateway`
processes, each with its own (unshared) data dir, against the session's Temporal dev server.

- A browser on gateway A sees, live, a reply written through gateway B and the bot's answer to it.
- A Slack post whose worker crashed after Slack accepted it and the post log recorded it is
  retried by Temporal on the *other* worker, which finds the shared record and posts nothing.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import httpx
import pytest_asyncio
from playwright.async_api import expect
from temporalio.api.enums.v1 import TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest
from temporalio.client import Client

from adapters.user_notice import CATCHING_UP_TEXT
from tests.slack.fake_slack import BOT_TOKEN, FakeSlack
from tests.slack.support import SIGNING_SECRET, SlackSim
from tests.support.browser import chromium
from tests.support.processes import Relay, ThreadworkProcess, tail
from tests.support.stack import free_port

REPLY_DEADLINE = 60.0
RETRY_DEADLINE = 120.0  # the dead worker's attempt times out (start-to-close 30 s), then the retry runs


class Cluster:
    """Processes of one test; all share the database and the task queue, none share a data dir."""

    def __init__(self, client: Client, tmp_path: Path, database_url: str, **extra: str) -> None:
        self.client = client
        self.tmp_path = tmp_path
        self.task_queue = f"pg-{uuid.uuid4().hex[:8]}"
        self.temporal = client.service_client.config.target_host
        self.base = {
            k: v for k, v in os.environ.items() if not k.startswith(("THREADWORK_", "TEMPORAL_", "SLACK_", "TEAMS_"))
        }
        self.base.update(
            TEMPORAL_ADDRESS=self.temporal,
            THREADWORK_TASK_QUEUE=self.task_queue,
            THREADWORK_DATABASE_URL=database_url,
            THREADWORK_WEBCHAT_AUTH="open",
            PYTHONUNBUFFERED="1",
            **extra,
        )
        self.procs: list[ThreadworkProcess] = []

    def start(self, command: str, name: str, **env: str) -> ThreadworkProcess:
        full = {**self.base, "THREADWORK_DATA_DIR": str(self.tmp_path / name), **env}
        if command == "gateway":
            full["THREADWORK_PORT"] = str(free_port())
        proc = ThreadworkProcess(command, full, self.tmp_path / f"{name}.log")
        self.procs.append(proc)
        return proc

    async def workflow_pollers(self) -> set[str]:
        resp = await self.client.workflow_service.describe_task_queue(
            DescribeTaskQueueRequest(
                namespace="default",
                task_queue=TaskQueue(name=self.task_queue),
                task_queue_type=TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
            )
        )
        return {p.identity for p in resp.pollers}

    def logs(self) -> str:
        return "\n".join(f"--- {p.log.name}\n{tail(p.log)}" for p in self.procs)

    def stop(self) -> None:
        for proc in self.procs:
            proc.kill()


async def _until(what: str, check, deadline: float, cluster: Cluster):
    loop = asyncio.get_running_loop()
    end = loop.time() + deadline
    while True:
        result = check()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return result
        if loop.time() > end:
            raise AssertionError(f"gave up waiting for {what} after {deadline:.0f}s\n{cluster.logs()}")
        await asyncio.sleep(0.2)


@pytest_asyncio.fixture
async def fake_slack() -> AsyncIterator[FakeSlack]:
    fake = FakeSlack()
    await fake.start()
    try:
        yield fake
    finally:
        await fake.stop()


async def test_browser_on_gateway_a_sees_a_reply_written_through_gateway_b(
    client: Client, tmp_path: Path, database_url: str
):
    cluster = Cluster(client, tmp_path, database_url)
    try:
        workers = [cluster.start("worker", "worker-1"), cluster.start("worker", "worker-2")]
        gateway_a, gateway_b = cluster.start("gateway", "gateway-a"), cluster.start("gateway", "gateway-b")
        await asyncio.gather(gateway_a.wait_healthy(), gateway_b.wait_healthy())
        pollers = await _until(
            "both workers to poll the task queue",
            lambda: _at_least(cluster.workflow_pollers(), 2),
            REPLY_DEADLINE,
            cluster,
        )
        assert {int(p.split("@", 1)[0]) for p in pollers} >= {w.proc.pid for w in workers}

        async with chromium() as browser, httpx.AsyncClient(base_url=gateway_b.url, timeout=30) as via_b:
            page = await browser.new_page()
            page.set_default_timeout(REPLY_DEADLINE * 1000)
            await page.goto(f"{gateway_a.url}/")
            await expect(page.get_by_test_id("live-status")).to_have_attribute("data-state", "live")
            await page.get_by_test_id("user-name").fill("Ada")
            await page.get_by_test_id("composer-input").fill("hello through gateway A")
            await page.get_by_test_id("composer-input").press("Enter")
            bot = page.locator('#messages [data-testid="message"][data-is-bot="true"]')
            await expect(bot).to_have_count(1)
            thread = page.url.rsplit("/", 1)[1]

            # No THREADWORK_WEBCHAT_SECRET: the gateways agree on the generated cookie key through the
            # database, so a browser is the same user on either (cookies do not tell ports apart).
            me_a = (await via_b.get(f"{gateway_a.url}/webchat/api/me")).json()
            assert (await via_b.get("/webchat/api/me")).json()["id"] == me_a["id"]
            # Gateway B reads what gateway A stored, and writes into the same thread.
            listed = (await via_b.get("/webchat/api/channels/general/messages", params={"thread": thread})).json()
            assert [m["text"] for m in listed if not m["is_bot"]] == ["hello through gateway A"]
            resp = await via_b.post(
                "/webchat/api/messages",
                json={"channel": "general", "thread": thread, "user": "Bo", "text": "and hello through gateway B"},
            )
            assert resp.status_code == 202, resp.text

            # The page on A shows both, live: B's message and the bot's answer to it (from either worker).
            await expect(
                page.locator('#messages [data-testid="message"]').filter(has_text="and hello through gateway B")
            ).to_have_count(1)
            await expect(bot).to_have_count(2)
            await expect(bot.nth(1)).to_contain_text("message 2")
            assert not (tmp_path / "gateway-a" / "webchat.sqlite3").exists(), "the web chat must live in PostgreSQL"
    except BaseException:
        print(cluster.logs())
        raise
    finally:
        cluster.stop()


async def _at_least(pollers, n: int):
    found = await pollers
    return found if len(found) >= n else None


def _replies(fake_slack: FakeSlack, thread_ts: str) -> list[dict]:
    """The session's replies in the thread (the gateway's catching-up notice is not one)."""
    return [p for p in fake_slack.posts("C1", thread_ts) if CATCHING_UP_TEXT not in p["text"]]


async def test_post_retried_on_the_other_worker_after_a_crash_posts_once(
    client: Client, tmp_path: Path, database_url: str, fake_slack: FakeSlack
):
    slack_env = {
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": fake_slack.api_url,
    }
    cluster = Cluster(client, tmp_path, database_url, **slack_env)
    host, port = cluster.temporal.rsplit(":", 1)
    relay = Relay(host, int(port))
    relay_address = await relay.start()
    db = await asyncpg.connect(database_url)
    try:
        gateway = cluster.start("gateway", "gateway-a")
        # Worker 1 reaches Temporal through the relay, so its "activity completed" can be held back.
        first = cluster.start("worker", "worker-1", TEMPORAL_ADDRESS=relay_address)
        await gateway.wait_healthy()
        fake_slack.start_stream_429 = True  # a streamed reply would fall back to a post (the built-in one is posted)
        gate = fake_slack.hold("chat.postMessage")
        async with httpx.AsyncClient(base_url=gateway.url, timeout=30) as http:
            sim = SlackSim(http, fake_slack)
            root = await sim.mention("C1", "UALICE", "answer me exactly once")
            await _until(
                "worker 1 to call chat.postMessage",
                lambda: fake_slack.calls_to("chat.postMessage"),
                REPLY_DEADLINE,
                cluster,
            )

            # Slack accepts the post; worker 1 records it in PostgreSQL, then dies before Temporal hears of it.
            relay.hold_requests()
            gate.set()
            # The post's own record holds its ts; the fast path's "may reach Slack unrecorded" mark,
            # written before posting, does not (waiting for any row raced the kill against the record).
            await _until(
                "worker 1 to record the post",
                lambda: db.fetchval("SELECT count(*) FROM posted_log WHERE log = 'slack' AND value ? 'ts'"),
                REPLY_DEADLINE,
                cluster,
            )
            first.kill()
            # Drop the dead worker's connections too: a held relay would keep its long polls open, and
            # Temporal would hand the retried turn to those zombie polls instead of to worker 2.
            await relay.stop()
            assert len(fake_slack.posts("C1", root["ts"])) == 1

            second = cluster.start("worker", "worker-2")
            log2 = tmp_path / "worker-2.log"
            # The retried turn finds worker 1's message by its post record or its stream record (adapters/slack/streaming.py).
            found = ("was already made", "already has message")
            await _until(
                "worker 2 to retry the post and find worker 1's record",
                lambda: any(f in log2.read_text(errors="replace") for f in found),
                RETRY_DEADLINE,
                cluster,
            )
            assert second.proc.poll() is None

            async def settled() -> bool:
                """The retried activity completed and worker 2 ran the session's next workflow task."""
                raw = (await client.get_workflow_handle(f"slack:T1:C1:{root['ts']}").describe()).raw_description
                return not raw.pending_activities and not raw.HasField("pending_workflow_task")

            await _until("the session to settle on worker 2", settled, RETRY_DEADLINE, cluster)
            # Worker 2 serves the session from now on.
            follow = sim.message("C1", "UALICE", "and once more", thread_ts=root["ts"])
            assert (await sim.event(follow)).status_code == 200
            await _until(
                "worker 2's own reply", lambda: len(_replies(fake_slack, root["ts"])) >= 2, REPLY_DEADLINE, cluster
            )

        # The reply was posted by the turn's local activity, so the session accepts the message only when
        # that workflow task completes: worker 1 died holding it, the gateway's inline delivery timed out,
        # and the thread heard the catching-up notice once (docs/reliability.md). The reply shows once.
        notices = [p for p in fake_slack.posts("C1", root["ts"]) if CATCHING_UP_TEXT in p["text"]]
        posts = _replies(fake_slack, root["ts"])
        assert len(notices) <= 1
        assert ["message 1" in p["text"] for p in posts] == [True, False] and "message 2" in posts[1]["text"]
        assert len(fake_slack.calls_to("chat.postMessage")) == 2 + len(notices)
        # Worker 2 found worker 1's record in the shared post log: it never had to search Slack for it.
        lookups = [
            c for c in fake_slack.calls if str(c.params.get("include_all_metadata", "")).lower() in ("1", "true")
        ]
        assert lookups == []
    except BaseException:
        print(cluster.logs())
        raise
    finally:
        cluster.stop()
        await db.close()
        await relay.stop()
