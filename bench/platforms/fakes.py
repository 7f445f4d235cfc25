"""The test suite's fake Slack Web API and Bot Connector, with a clock on each reply.

The bench stops its clock when the platform holds the bot's whole reply, as a user would
see it: a Slack post, or the end of a Slack stream (chat.stopStream); a Teams message
activity (a stream's typing chunks and "thinking…" updates do not count, its final
message does). These subclasses resolve a waiter per conversation on that event.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from aiohttp import web

from tests.slack.fake_slack import FakeSlack
from tests.teams.fake_connector import FakeConnector


class _Waiters:
    """One pending future per conversation key; the first reply into it resolves it."""

    def __init__(self) -> None:
        self._waiting: dict[Any, asyncio.Future[float]] = {}

    def expect(self, key: Any) -> asyncio.Future[float]:
        if key in self._waiting:
            raise RuntimeError(f"two messages in flight in {key}: the bench waits for one reply at a time")
        future: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self._waiting[key] = future
        return future

    def arrived(self, key: Any) -> None:
        future = self._waiting.pop(key, None)
        if future is not None and not future.done():
            future.set_result(time.perf_counter())


class BenchSlack(FakeSlack):
    def __init__(self) -> None:
        super().__init__()
        self.replies = _Waiters()

    def _chat_postMessage(self, p: dict, token: str) -> dict:
        result = super()._chat_postMessage(p, token)
        self.replies.arrived((p.get("channel"), p.get("thread_ts")))
        return result

    def _chat_stopStream(self, p: dict, token: str) -> dict:
        result = super()._chat_stopStream(p, token)
        msg = self._find(p.get("channel", ""), p.get("ts", ""))
        if result.get("ok") and msg is not None:
            self.replies.arrived((msg["channel"], msg.get("thread_ts")))
        return result


class BenchConnector(FakeConnector):
    def __init__(self) -> None:
        super().__init__()
        self.replies = _Waiters()

    async def send(self, request: web.Request) -> web.Response:
        response = await super().send(request)
        try:
            kind = (await request.json()).get("type")
        except ValueError:
            kind = None
        if kind == "message":
            self.replies.arrived(request.match_info["cid"])
        return response
