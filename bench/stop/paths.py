"""One Stop per platform, as its user presses it: the seconds from the press to the stopped message.

Each round opens a new conversation, waits until the reply visibly streams (a few words
shown, so Stop lands mid-answer), presses Stop and times until the platform holds the final
message with the text so far and the stopped note. The waits are bounded; a bound is not
the goal (the report compares the figures with the 2 s goal).
"""

from __future__ import annotations

import json
import time
import uuid
from typing import Protocol

import httpx

from bench.stop.clock import bounded
from bench.stop.fakes import StopConnector, StopSlack
from bench.stop.webchat import WebChatWatcher
from tests.slack.fake_slack import BOT_USER
from tests.slack.support import SlackSim, new_ts
from tests.teams.activities import activity

TEXT = "tell me everything about the deploy"
#: Enough of the answer on screen that Stop lands mid-answer ("word000 word001 ").
SHOWN = 16
#: Bounds of the waits (a busy host is slow; these only keep a broken run from hanging).
STREAMING_BOUND = 60.0
STOPPED_BOUND = 60.0
CHANNEL = "CSTOP"


class StopPath(Protocol):
    name: str

    async def once(self) -> float:
        """One streamed reply stopped mid-answer: seconds from the press to the stopped message."""
        ...

    async def close(self) -> None: ...


class WebChatStop:
    """The web chat's Stop button: ``POST /webchat/api/stop``; the clock stops when the event stream
    delivers the final version of the message."""

    name = "web chat"

    def __init__(self, gateway_url: str) -> None:
        self.http = httpx.AsyncClient(base_url=gateway_url, timeout=60)
        self.watcher = WebChatWatcher(self.http)  # the same browser: its cookie, its event stream

    async def start(self) -> None:
        await self.watcher.start()

    async def once(self) -> float:
        sent = await self.http.post(
            "/webchat/api/messages", json={"channel": "general", "thread": None, "user": "bench", "text": TEXT}
        )
        if sent.status_code != 202:
            raise RuntimeError(f"the gateway answered {sent.status_code}: {sent.text}")
        thread = sent.json()["thread"]
        await bounded(
            self.watcher.clock.expect(lambda: self.watcher.streaming(thread, SHOWN) is not None),
            STREAMING_BOUND,
            "the web chat reply streaming",
        )
        reply = self.watcher.streaming(thread, SHOWN)
        assert reply is not None
        stopped = self.watcher.clock.expect(lambda: self.watcher.shows_stopped(thread))
        pressed = time.perf_counter()
        resp = await self.http.post(
            "/webchat/api/stop", json={"channel": "general", "message_id": reply["id"], "user": "bench"}
        )
        if resp.status_code != 202 or not resp.json().get("stopped"):
            raise RuntimeError(f"Stop was not taken: {resp.status_code} {resp.text}")
        return await bounded(stopped, STOPPED_BOUND, "the stopped web chat message") - pressed

    async def close(self) -> None:
        await self.watcher.stop()
        await self.http.aclose()


class SlackStop:
    """Slack's Stop button of an agent app: Slack ends the stream, then sends ``agent_session_stopped``
    as a signed event; the clock stops when the message shows the text so far and the note."""

    name = "slack"

    def __init__(self, fake: StopSlack, gateway_url: str) -> None:
        self.fake = fake
        self.http = httpx.AsyncClient(base_url=gateway_url, timeout=60)
        self.sim = SlackSim(self.http, fake)
        fake.add_user("USTOPA", "Ada")
        fake.add_user("USTOPB", "Bob")

    async def _event(self, event: dict) -> None:
        response = await self.sim.event(event)
        if response.status_code != 200:
            raise RuntimeError(f"the gateway answered {response.status_code}: {response.text}")

    async def once(self) -> float:
        ts, text = new_ts(), f"<@{BOT_USER}> {TEXT}"
        await self._event(SlackSim.message(CHANNEL, "USTOPA", text, ts=ts, kind="app_mention"))
        await self._event(SlackSim.message(CHANNEL, "USTOPA", text, ts=ts))
        await bounded(
            self.fake.clock.expect(lambda: self.fake.streams_text(CHANNEL, ts, SHOWN)),
            STREAMING_BOUND,
            "the Slack reply streaming",
        )
        stopped = self.fake.clock.expect(lambda: self.fake.shows_stopped(CHANNEL, ts))
        pressed = time.perf_counter()
        response = await self.sim.agent_stop(CHANNEL, ts, user="USTOPB")
        if response.status_code != 200:
            raise RuntimeError(f"the gateway answered the Stop event {response.status_code}: {response.text}")
        return await bounded(stopped, STOPPED_BOUND, "the stopped Slack message") - pressed

    async def close(self) -> None:
        await self.http.aclose()


class TeamsStop:
    """The Stop button of a Teams 1:1 stream: the Bot Connector cancels the stream and refuses the
    bot's next chunk (403); the clock stops when the chat's message shows the text so far and the note."""

    name = "teams"

    def __init__(self, connector: StopConnector, gateway_url: str) -> None:
        self.connector = connector
        self.http = httpx.AsyncClient(base_url=gateway_url, timeout=60)

    async def once(self) -> float:
        conversation = f"a:stopbench-{uuid.uuid4().hex[:16]}"
        body = activity(self.connector.url, conversation, text=TEXT, user="29:stopbench", user_name="Ada")
        response = await self.http.post(
            "/api/messages", content=json.dumps(body), headers={"Content-Type": "application/json"}
        )
        if response.status_code >= 300:
            raise RuntimeError(f"the gateway answered {response.status_code}: {response.text}")
        await bounded(
            self.connector.clock.expect(lambda: self.connector.streaming(conversation, SHOWN) is not None),
            STREAMING_BOUND,
            "the Teams reply streaming",
        )
        stopped = self.connector.clock.expect(lambda: self.connector.shows_stopped(conversation))
        pressed = time.perf_counter()
        self.connector.streams.press_stop(conversation)
        return await bounded(stopped, STOPPED_BOUND, "the stopped Teams message") - pressed

    async def close(self) -> None:
        await self.http.aclose()
