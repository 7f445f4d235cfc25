"""The test suite's fake Slack Web API and Bot Connector, with a Clock poked after every request.

The bench stamps two moments per Stop: the reply visibly streaming (so Stop lands
mid-answer), and the stopped message final at the platform, showing the text so far and
STOPPED_NOTE, as the user sees it (Slack: the chat.update or chat.stopStream that writes it;
Teams: the update, or final message, that carries it).
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from bench.stop.clock import Clock
from tests.slack.fake_slack import FakeSlack
from tests.support.stack import free_port
from tests.teams.fake_connector import FakeConnector
from tests.teams.fake_streams import Stream
from workflows.stream_contracts import STOPPED_NOTE


class StopSlack(FakeSlack):
    def __init__(self) -> None:
        super().__init__()
        self.clock = Clock()

    async def _api(self, request: web.Request) -> web.Response:
        response = await super()._api(request)
        self.clock.poke()
        return response

    def thread(self, channel: str, thread_ts: str) -> list[dict[str, Any]]:
        """The bot's messages in the thread, streaming ones included."""
        return self.posts(channel, thread_ts, streaming=True)

    def streams_text(self, channel: str, thread_ts: str, chars: int) -> bool:
        return any(m.get("streaming") and len(m["text"]) >= chars for m in self.thread(channel, thread_ts))

    def shows_stopped(self, channel: str, thread_ts: str) -> bool:
        """A message of the thread is final and says it was stopped (a stream's text, or an update's blocks)."""
        for m in self.thread(channel, thread_ts):
            if m.get("streaming"):
                continue
            shown = [m["text"]] + [str(b) for b in m.get("blocks") or []]
            if any(STOPPED_NOTE in s for s in shown):
                return True
        return False


class StopConnector(FakeConnector):
    def __init__(self) -> None:
        super().__init__()
        self.clock = Clock()
        self.runner: web.AppRunner | None = None

    async def send(self, request: web.Request) -> web.Response:
        response = await super().send(request)
        self.clock.poke()
        return response

    async def update(self, request: web.Request) -> web.Response:
        response = await super().update(request)
        self.clock.poke()
        return response

    async def start(self) -> None:
        self.runner = web.AppRunner(self.app(), access_log=None)
        await self.runner.setup()
        port = free_port()
        await web.TCPSite(self.runner, "127.0.0.1", port).start()
        self.url = f"http://127.0.0.1:{port}/"

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()

    def streaming(self, conversation: str, chars: int) -> Stream | None:
        """The conversation's running stream once it shows ``chars`` characters."""
        for s in self.streams.in_conversation(conversation):
            if s.state == "streaming" and len(s.text) >= chars:
                return s
        return None

    def shows_stopped(self, conversation: str) -> bool:
        return any(STOPPED_NOTE in text for text in self.messages(conversation))
