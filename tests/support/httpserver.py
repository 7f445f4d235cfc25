"""A small real HTTP server on 127.0.0.1 for tests: serves documents, Graph, an LLM, callbacks."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.support.stack import free_port


@dataclass
class LocalServer:
    app: web.Application
    base_url: str = ""
    requests: list[dict[str, Any]] = field(default_factory=list)


@contextlib.asynccontextmanager
async def local_server(setup: Callable[[web.Application, list[dict[str, Any]]], None]) -> AsyncIterator[LocalServer]:
    """Run an aiohttp app whose routes ``setup`` adds; every request is recorded first."""
    recorded: list[dict[str, Any]] = []

    @web.middleware
    async def record(request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]):
        body = await request.read()
        recorded.append(
            {
                "method": request.method,
                "path": request.path,
                "query": dict(request.query),
                "headers": dict(request.headers),
                "body": body,
            }
        )
        return await handler(request)

    app = web.Application(middlewares=[record])
    setup(app, recorded)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        yield LocalServer(app, f"http://127.0.0.1:{port}", recorded)
    finally:
        await runner.cleanup()


def serve_files(files: dict[str, tuple[bytes, str]], bearer: str | None = None):
    """Routes that serve ``path -> (bytes, content type)``; with ``bearer`` they require it."""

    def setup(app: web.Application, _recorded: list) -> None:
        async def get(request: web.Request) -> web.Response:
            if bearer is not None and request.headers.get("Authorization") != f"Bearer {bearer}":
                return web.Response(status=401, text="no token")
            found = files.get(request.path)
            if found is None:
                return web.Response(status=404, text="not found")
            data, ctype = found
            return web.Response(body=data, headers={"Content-Type": ctype})

        app.router.add_get("/{tail:.*}", get)

    return setup
