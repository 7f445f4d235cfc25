"""A local OpenAI-compatible chat-completions server for tests (records requests)."""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncIterator

from aiohttp import web

from tests.support.stack import free_port


class FakeOpenAI:
    def __init__(self) -> None:
        self.requests: list[dict] = []
        self.fail_with: int | None = None
        #: A fixed answer; unset, the fake answers "LLM heard: <last message>".
        self.answer: str | None = None
        self.base_url = ""

    async def completions(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.requests.append({"body": body, "auth": request.headers.get("Authorization")})
        if self.fail_with:
            return web.json_response({"error": {"message": "overloaded"}}, status=self.fail_with)
        last = body["messages"][-1]["content"]
        content = self.answer if self.answer is not None else f"LLM heard: {last}"
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
