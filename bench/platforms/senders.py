"""Messages as Slack and Teams send them, each timed until its reply reaches the platform.

The senders use aiohttp: the load generator shares the 2 cores with what it measures, and
httpx spent about twice aiohttp's CPU per request (py-spy, the burst), which the floor's sender
(Temporal's Rust client) never pays.
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass
from typing import Protocol

from aiohttp import ClientSession, ClientTimeout

from bench.platforms.fakes import BenchConnector, BenchSlack, ReplyClock
from tests.slack.fake_slack import BOT_USER
from tests.slack.support import SlackSim, new_ts, signed_headers
from tests.teams.activities import activity

TEXT = "hello, can you tell me how the deploy went?"
CHANNEL = "CBENCH"
SENDERS = [f"UBENCH{i:02d}" for i in range(20)]


@dataclass
class Timing:
    """Seconds from sending until the reply's first text showed, and until the whole reply was there."""

    first_text: float
    whole: float


async def timed(clock: ReplyClock, started: float) -> Timing:
    whole = await clock.whole
    return Timing(first_text=await clock.first_text - started, whole=whole - started)


class PathSender(Protocol):
    """One platform path: open a conversation, or follow up in one; how long until the reply showed."""

    async def new_thread(self, sender: int = 0) -> tuple[str, Timing]: ...

    async def follow_up(self, thread: str, sender: int = 0) -> Timing: ...


class SlackSender:
    """Signed Events API requests, as Slack sends them: a mention arrives as app_mention and as message."""

    def __init__(self, fake: BenchSlack, gateway_url: str) -> None:
        self.fake = fake
        self.http = ClientSession(base_url=gateway_url, timeout=ClientTimeout(total=60))
        self.sim = SlackSim(None, fake)  # type: ignore[arg-type] - only its payload builders are used
        for user in SENDERS:
            fake.add_user(user, user.title())

    async def _send(self, event: dict) -> None:
        body = self.sim.envelope(event)
        headers = signed_headers(body, content_type="application/json")
        async with self.http.post("/slack/events", data=body.encode(), headers=headers) as response:
            if response.status != 200:
                raise RuntimeError(f"gateway answered {response.status}: {await response.text()}")

    async def new_thread(self, sender: int = 0) -> tuple[str, Timing]:
        ts, user = new_ts(), SENDERS[sender % len(SENDERS)]
        reply = self.fake.replies.expect((CHANNEL, ts))
        started = time.perf_counter()
        text = f"<@{BOT_USER}> {TEXT}"
        await self._send(SlackSim.message(CHANNEL, user, text, ts=ts, kind="app_mention"))
        await self._send(SlackSim.message(CHANNEL, user, text, ts=ts))
        return ts, await timed(reply, started)

    async def follow_up(self, thread: str, sender: int = 0) -> Timing:
        user = SENDERS[sender % len(SENDERS)]
        reply = self.fake.replies.expect((CHANNEL, thread))
        started = time.perf_counter()
        await self._send(SlackSim.message(CHANNEL, user, TEXT, thread_ts=thread))
        return await timed(reply, started)

    async def close(self) -> None:
        await self.http.close()


class TeamsSender:
    """Bot Framework activities in anonymous mode (no app id), replies to the local Bot Connector."""

    def __init__(self, connector: BenchConnector, gateway_url: str) -> None:
        self.connector = connector
        self.http = ClientSession(base_url=gateway_url, timeout=ClientTimeout(total=60))
        # Members the connector knows, as in a real team: the gateway caches who they are (an
        # unknown member is looked up again on every message, which is not the path measured).
        for i in range(len(SENDERS)):
            connector.members[f"29:bench-{i}"] = {"id": f"29:bench-{i}", "name": f"Bench {i}", "userRole": "user"}

    async def _send(self, conversation: str, sender: int) -> Timing:
        reply = self.connector.replies.expect(conversation)
        who = sender % len(SENDERS)
        body = activity(self.connector.url, conversation, text=TEXT, user=f"29:bench-{who}", user_name=f"Bench {who}")
        started = time.perf_counter()
        async with self.http.post(
            "/api/messages", data=json.dumps(body), headers={"Content-Type": "application/json"}
        ) as response:
            if response.status >= 300:
                raise RuntimeError(f"gateway answered {response.status}: {await response.text()}")
        return await timed(reply, started)

    async def new_thread(self, sender: int = 0) -> tuple[str, Timing]:
        conversation = f"a:bench-{uuid.uuid4().hex[:16]}"
        return conversation, await self._send(conversation, sender)

    async def follow_up(self, thread: str, sender: int = 0) -> Timing:
        return await self._send(thread, sender)

    async def close(self) -> None:
        await self.http.close()


class FloorSender:
    """The raw floor (bench.echo: update-with-start + one local activity) behind the same interface."""

    def __init__(self, target) -> None:  # bench.targets.Target of kind "echo"
        self.target = target

    async def new_thread(self, sender: int = 0) -> tuple[str, Timing]:
        thread = self.target.new_session()
        seconds = await self.target.send(thread)
        return thread, Timing(first_text=seconds, whole=seconds)

    async def follow_up(self, thread: str, sender: int = 0) -> Timing:
        seconds = await self.target.send(thread)
        return Timing(first_text=seconds, whole=seconds)

    async def close(self) -> None:
        return None
