"""A local OpenAI-compatible chat-completions server for tests (records requests).

``stream=True`` requests are answered as the real API does: server-sent events, one
``chat.completion.chunk`` per piece of the answer (``stream_chunks`` pieces,
``chunk_delay`` seconds apart), then ``data: [DONE]``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from typing import AsyncIterator

from aiohttp import web

from tests.support.stack import free_port


class FakeOpenAI:
    def __init__(self) -> None:
        self.requests: list[dict] = []
        self.fail_with: int | None = None
        #: A fixed answer; unset, the fake answers "LLM heard: <last message>".
        self.answer: str | None = None
        self.base_url = ""
        #: Streamed answers: how many chunks, and the pause before each one after the first.
        self.stream_chunks = 4
        self.chunk_delay = 0.0
        #: Chunks sent so far, over all streamed answers (a fault test waits for "after chunk 10").
        self.chunks_sent = 0
        self._progress = asyncio.Condition()

    async def wait_chunks(self, n: int, timeout: float = 30) -> None:
        """Until ``n`` chunks were sent in all (bounded)."""
        async with self._progress:
            await asyncio.wait_for(self._progress.wait_for(lambda: self.chunks_sent >= n), timeout)

    async def completions(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        self.requests.append({"body": body, "auth": request.headers.get("Authorization")})
        if self.fail_with:
            return web.json_response({"error": {"message": "overloaded"}}, status=self.fail_with)
        last = body["messages"][-1]["content"]
        content = self.answer if self.answer is not None else f"LLM heard: {last}"
        if body.get("stream"):
            return await self._stream(request, body, content)
        return web.json_response(
            {
                "id": f"chatcmpl-{len(self.requests)}",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": body["model"],
                "choices": [
                    {"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": content}}
                ],
                "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
            }
        )


    async def _stream(self, request: web.Request, body: dict, content: str) -> web.StreamResponse:
        resp = web.StreamResponse(headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"})
        await resp.prepare(request)
        base = {"id": f"chatcmpl-{len(self.requests)}", "object": "chat.completion.chunk",
                "created": int(time.time()), "model": body["model"]}
        try:
            for n, piece in enumerate(split_chunks(content, self.stream_chunks)):
                if n and self.chunk_delay:
                    await asyncio.sleep(self.chunk_delay)
                delta = {"role": "assistant", "content": piece} if n == 0 else {"content": piece}
                chunk = {**base, "choices": [{"index": 0, "delta": delta, "finish_reason": None}]}
                await resp.write(f"data: {json.dumps(chunk)}\n\n".encode())
                async with self._progress:
                    self.chunks_sent += 1
                    self._progress.notify_all()
            done = {**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}
            await resp.write(f"data: {json.dumps(done)}\n\ndata: [DONE]\n\n".encode())
        except (ConnectionResetError, asyncio.CancelledError):
            return resp  # the client went away (a killed worker, a stopped turn)
        await resp.write_eof()
        return resp


def split_chunks(text: str, n: int) -> list[str]:
    """``text`` in ``n`` consecutive pieces (by words, the last takes the rest)."""
    words = text.split(" ")
    size = max(1, -(-len(words) // max(1, n)))
    pieces = [" ".join(words[i : i + size]) for i in range(0, len(words), size)]
    return [p + (" " if i < len(pieces) - 1 else "") for i, p in enumerate(pieces)]


@contextlib.asynccontextmanager
async def fake_openai() -> AsyncIterator[FakeOpenAI]:
    fake = FakeOpenAI()
    app = web.Application()
    app.router.add_post("/v1/chat/completions", fake.completions)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    fake.base_url = f"http://127.0.0.1:{port}/v1"
    try:
        yield fake
    finally:
        await runner.cleanup()
