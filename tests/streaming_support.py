"""What the streamed-reply tests share: a slow model answer and a reader of the web chat's event stream."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx

from tests.support.stack import is_streaming

#: The issue's slow model: 20 chunks, 100 ms apart.
CHUNKS = 20
CHUNK_DELAY = 0.1
ANSWER = " ".join(f"word{n:02d}" for n in range(CHUNKS))
#: Stop tests: the answer takes about 20 s, so it cannot end by itself before Stop ends the turn. A final
#: message with a strict prefix of ANSWER and the stopped note therefore shows Stop worked. How fast is a
#: benchmark figure (`python -m bench.stop`, docs/assistant.md), never asserted by a test.
STOP_CHUNK_DELAY = 1.0
#: How long a Stop test waits for the stopped message: a bound for a busy host, not the 2 s goal.
STOP_BOUND = 30.0


async def stream_events(http: httpx.AsyncClient, thread: str, timeout: float = 30) -> list[dict[str, Any]]:
    """The event stream's versions of the bot reply in ``thread``, until its final (non-streaming) version."""
    seen: list[dict[str, Any]] = []
    async with asyncio.timeout(timeout):
        async with http.stream("GET", "/webchat/api/stream", params={"after": "0"}) as resp:
            async for line in resp.aiter_lines():
                if not line.startswith("data: "):
                    continue
                message = json.loads(line[len("data: ") :])["message"]
                if message["thread"] != thread or not message["is_bot"]:
                    continue
                seen.append(message)
                if not is_streaming(message):
                    return seen
    raise AssertionError(f"the event stream ended before the reply in {thread} was final: {seen}")


async def wait_streaming_text(store: Any, thread: str, min_chars: int, timeout: float = 20) -> dict[str, Any]:
    """The streaming reply in ``thread`` once it shows at least ``min_chars`` characters (bounded)."""
    async with asyncio.timeout(timeout):
        while True:
            for m in await store.messages("general", thread):
                if m["is_bot"] and is_streaming(m) and len(m["text"]) >= min_chars:
                    return m
            await asyncio.sleep(0.02)
