"""The web chat as a browser sees it: one event stream (SSE) read for the whole run, with a Clock.

Every bot message version the gateway streams is kept by thread, and the clock is poked on
each, so the stopped message is stamped when its final version reaches the browser's side.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any

import httpx

from bench.stop.clock import Clock
from tests.support.stack import is_streaming
from workflows.stream_contracts import STOPPED_NOTE


class WebChatWatcher:
    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http
        self.clock = Clock()
        #: thread -> the latest version of each bot message in it, by message id.
        self.threads: dict[str, dict[str, dict[str, Any]]] = {}
        self.failed: BaseException | None = None
        self._task: asyncio.Task[None] | None = None
        self._connected = asyncio.Event()

    async def start(self, timeout: float = 30) -> None:
        self._task = asyncio.create_task(self._read())
        async with asyncio.timeout(timeout):
            await self._connected.wait()
        if self.failed is not None:
            raise RuntimeError(f"the web chat event stream failed: {self.failed!r}") from self.failed

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _read(self) -> None:
        try:
            async with self.http.stream("GET", "/webchat/api/stream", timeout=None) as resp:
                resp.raise_for_status()
                self._connected.set()
                async for line in resp.aiter_lines():
                    if not line.startswith("data: "):
                        continue
                    message = json.loads(line[len("data: ") :])["message"]
                    if message.get("is_bot"):
                        self.threads.setdefault(message["thread"], {})[message["id"]] = message
                        self.clock.poke()
        except asyncio.CancelledError:
            raise
        except Exception as err:  # every wait fails naming it
            self.failed = err
            self.clock.fail(RuntimeError(f"the web chat event stream failed: {err!r}"))
            self._connected.set()
            return
        self.clock.fail(RuntimeError("the web chat event stream ended"))

    def streaming(self, thread: str, chars: int) -> dict[str, Any] | None:
        """The thread's reply while it streams, once it shows ``chars`` characters."""
        for m in self.threads.get(thread, {}).values():
            if is_streaming(m) and len(m["text"]) >= chars:
                return m
        return None

    def shows_stopped(self, thread: str) -> bool:
        return any(not is_streaming(m) and STOPPED_NOTE in m["text"] for m in self.threads.get(thread, {}).values())
