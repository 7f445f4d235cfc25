"""The test suite's fake Slack Web API and Bot Connector, with two clocks on each reply.

The bench stops one clock when the platform first shows text of the bot's reply (a Slack
post, or a stream's first chunk with text; a Teams message, or a stream's first typing
chunk with text) and the other when the platform holds the whole reply, as a user would
see it: a Slack post, or the end of a Slack stream (chat.stopStream); a Teams message
activity (a stream's typing chunks and "thinking…" updates do not count, its final
message does). These subclasses resolve a waiter per conversation on those events.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from tests.slack.fake_slack import FakeSlack
from tests.teams.fake_connector import FakeConnector


@dataclass
class ReplyClock:
    """When the reply's first text showed, and when the whole reply was there (perf_counter)."""

    first_text: asyncio.Future[float]
    whole: asyncio.Future[float]


class _Waiters:
    """One pending clock per conversation key; the first reply into it resolves it."""

    def __init__(self) -> None:
        self._waiting: dict[Any, ReplyClock] = {}

    def expect(self, key: Any) -> ReplyClock:
        if key in self._waiting:
            raise RuntimeError(f"two messages in flight in {key}: the bench waits for one reply at a time")
        loop = asyncio.get_running_loop()
        clock = ReplyClock(loop.create_future(), loop.create_future())
        self._waiting[key] = clock
        return clock

    def shown(self, key: Any) -> None:
        """Text of the reply is visible (a chunk of a stream, or the whole of it)."""
        clock = self._waiting.get(key)
        if clock is not None and not clock.first_text.done():
            clock.first_text.set_result(time.perf_counter())

    def arrived(self, key: Any) -> None:
        self.shown(key)
        clock = self._waiting.pop(key, None)
        if clock is not None and not clock.whole.done():
            clock.whole.set_result(time.perf_counter())


class BenchSlack(FakeSlack):
    def __init__(self) -> None:
        super().__init__()
        self.replies = _Waiters()

    def _chat_postMessage(self, p: dict, token: str) -> dict:
        result = super()._chat_postMessage(p, token)
        self.replies.arrived((p.get("channel"), p.get("thread_ts")))
        return result

    def _chat_startStream(self, p: dict, token: str) -> dict:
        result = super()._chat_startStream(p, token)
        if result.get("ok") and self._stream_text(p)[0].strip():
            self.replies.shown((p.get("channel"), p.get("thread_ts")))
        return result

    def _chat_appendStream(self, p: dict, token: str) -> dict:
        result = super()._chat_appendStream(p, token)
        msg = self._find(p.get("channel", ""), p.get("ts", ""))
        if result.get("ok") and msg is not None and self._stream_text(p)[0].strip():
            self.replies.shown((msg["channel"], msg.get("thread_ts")))
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
            body = await request.json()
        except ValueError:
            body = {}
        kind, text = body.get("type"), (body.get("text") or "").strip()
        if kind == "message":
            self.replies.arrived(request.match_info["cid"])
        elif kind == "typing" and text and response.status < 300:
            self.replies.shown(request.match_info["cid"])
        return response
