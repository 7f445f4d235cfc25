"""A local OpenAI-compatible chat-completions server for tests (records requests).

Requests that offer ``tools`` are answered from ``script`` in order (tool calls or text);
when the script is used up, and for requests without tools, it answers text as before.
``on_tools_request`` (n, body) runs before the n-th tools request is answered (a test's crash point).
Requests with ``stream=True`` (with or without tools) are answered as the real API does:
server-sent events, one ``chat.completion.chunk`` per piece of the answer (``stream_chunks``
pieces of text, ``chunk_delay`` seconds apart; scripted tool calls as ``tool_calls`` deltas:
each call's id and name first, its arguments in two pieces), then ``data: [DONE]``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from aiohttp import web

from tests.support.stack import free_port


class FakeOpenAI:
    def __init__(self) -> None:
        self.requests: list[dict] = []
        self.fail_with: int | None = None
        #: A fixed answer; unset, the fake answers "LLM heard: <last message>".
        self.answer: str | None = None
        self.base_url = ""
        #: Scripted answers to requests with tools: {"tool_calls": [(name, args)]} or {"text": ...}.
        self.script: list[dict[str, Any]] = []
        self.on_tools_request: Callable[[int, dict], Awaitable[None]] | None = None
        #: Instead of ``script``: decides each tools answer from the request body (same shape as a script step).
        self.responder: Callable[[dict], dict[str, Any]] | None = None
        self._calls = 0
        #: Streamed answers: how many chunks, and the pause before each one after the first.
        self.stream_chunks = 4
        self.chunk_delay = 0.0
        #: Chunks sent so far, over all streamed answers (a fault test waits for "after chunk 10").
        self.chunks_sent = 0
        #: Once: the next streamed answer breaks off with an error event after this many chunks (a model failing).
        self.break_after: int | None = None
        self._progress = asyncio.Condition()
        self._server: web.Server | None = None

    def open_connections(self) -> int:
        """Client connections the fake holds open now (a client keeps one alive between calls)."""
        return len(self._server.connections) if self._server is not None else 0

    def script_tool_calls(self, *calls: tuple[str, Any], text: str = "") -> None:
        """The next tools request answers with these calls; ``args`` a dict, or raw text (malformed JSON)."""
        self.script.append({"tool_calls": list(calls), "text": text})

    def script_text(self, text: str) -> None:
        self.script.append({"text": text})

    @property
    def tool_requests(self) -> list[dict]:
        """Bodies of the requests that offered tools (the model's turns), in order."""
        return [r["body"] for r in self.requests if "tools" in r["body"]]

    def tool_results(self, n: int = -1) -> list[str]:
        """The tool results the model was given in the ``n``-th model turn request (any request with tool messages)."""
        turns = [r["body"] for r in self.requests if any(m.get("role") == "tool" for m in r["body"]["messages"])]
        return [m["content"] for m in turns[n]["messages"] if m.get("role") == "tool"] if turns else []

    async def wait_chunks(self, n: int, timeout: float = 30) -> None:
        """Until ``n`` chunks were sent in all (bounded)."""
        async with self._progress:
            await asyncio.wait_for(self._progress.wait_for(lambda: self.chunks_sent >= n), timeout)

    async def completions(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        self.requests.append({"body": body, "auth": request.headers.get("Authorization")})
        if self.fail_with:
            return web.json_response({"error": {"message": "overloaded"}}, status=self.fail_with)
        message: dict[str, Any]
        if "tools" in body:
            self._calls += 1
            if self.on_tools_request is not None:
                await self.on_tools_request(self._calls, body)
        if "tools" in body and (self.script or self.responder):
            step = self.responder(body) if self.responder else self.script.pop(0)
            message = {"role": "assistant", "content": step.get("text") or None}
            calls = [
                {
                    "id": f"call_{self._calls}_{i}",
                    "type": "function",
                    "function": {"name": name, "arguments": args if isinstance(args, str) else json.dumps(args)},
                }
                for i, (name, args) in enumerate(step.get("tool_calls") or [], 1)
            ]
            if body.get("stream"):
                return await self._stream(request, body, step.get("text") or "", calls)
            if calls:
                message["tool_calls"] = calls
            finish = "tool_calls" if calls else "stop"
        else:
            last = body["messages"][-1]["content"]
            content = self.answer if self.answer is not None else f"LLM heard: {last}"
            if body.get("stream"):
                return await self._stream(request, body, content)
            message = {"role": "assistant", "content": content}
            finish = "stop"
        return web.json_response(
            {
                "id": f"chatcmpl-{len(self.requests)}",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": body["model"],
                "choices": [{"index": 0, "finish_reason": finish, "message": message}],
                "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
            }
        )

    async def _stream(
        self, request: web.Request, body: dict, content: str, calls: list[dict] | None = None
    ) -> web.StreamResponse:
        resp = web.StreamResponse(headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"})
        await resp.prepare(request)
        base = {
            "id": f"chatcmpl-{len(self.requests)}",
            "object": "chat.completion.chunk",
            "created": int(time.time()),
            "model": body["model"],
        }
        deltas: list[dict[str, Any]] = (
            [{"content": p} for p in split_chunks(content, self.stream_chunks)] if content else []
        )
        for i, call in enumerate(calls or []):
            args = call["function"]["arguments"]
            head = {"index": i, "id": call["id"], "type": "function", "function": {"name": call["function"]["name"]}}
            deltas.append({"tool_calls": [head]})
            for half in (args[: len(args) // 2], args[len(args) // 2 :]):
                deltas.append({"tool_calls": [{"index": i, "function": {"arguments": half}}]})
        try:
            for n, delta in enumerate(deltas):
                if n and self.chunk_delay:
                    await asyncio.sleep(self.chunk_delay)
                if n == self.break_after:
                    self.break_after = None
                    await resp.write(b'data: {"error": {"message": "upstream model failed mid-answer"}}\n\n')
                    await resp.write_eof()
                    return resp
                if n == 0:
                    delta = {"role": "assistant", **delta}
                chunk = {**base, "choices": [{"index": 0, "delta": delta, "finish_reason": None}]}
                await resp.write(f"data: {json.dumps(chunk)}\n\n".encode())
                async with self._progress:
                    self.chunks_sent += 1
                    self._progress.notify_all()
            finish = "tool_calls" if calls else "stop"
            done = {**base, "choices": [{"index": 0, "delta": {}, "finish_reason": finish}]}
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
async def fake_openai(port: int | None = None) -> AsyncIterator[FakeOpenAI]:
    fake = FakeOpenAI()
    app = web.Application()
    app.router.add_post("/v1/chat/completions", fake.completions)
    runner = web.AppRunner(app)
    await runner.setup()
    port = port or free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    fake.base_url = f"http://127.0.0.1:{port}/v1"
    fake._server = runner.server
    try:
        yield fake
    finally:
        await runner.cleanup()
