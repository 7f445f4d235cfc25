"""The gateway: one aiohttp app with every adapter's routes, /healthz and /metrics."""

from __future__ import annotations

import asyncio

from aiohttp import web
from temporalio.client import Client

from adapters.base import SessionDispatcher
from bots import metrics
from bots.queued_dispatch import QueuedDispatcher
from bots.wiring import Platforms

HEALTH_TIMEOUT = 2.0


def build_app(client: Client, dispatcher: SessionDispatcher, platforms: Platforms) -> web.Application:
    app = web.Application(client_max_size=2 * 1024 * 1024)

    async def healthz(request: web.Request) -> web.Response:
        try:
            ok = await asyncio.wait_for(client.service_client.check_health(), HEALTH_TIMEOUT)
        except Exception as err:  # any failure to reach Temporal means unhealthy
            return web.json_response({"status": "unavailable", "temporal": str(err) or type(err).__name__}, status=503)
        if not ok:
            return web.json_response({"status": "unavailable", "temporal": "not serving"}, status=503)
        return web.json_response({"status": "ok", "temporal": "ok", "platforms": platforms.registry.names()})

    async def metrics_page(request: web.Request) -> web.Response:
        if isinstance(dispatcher, QueuedDispatcher):
            await dispatcher.stats()  # sets the queue depth and oldest-age gauges
        body, content_type = await metrics.render()
        return web.Response(body=body, headers={"Content-Type": content_type})

    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", metrics_page)
    if isinstance(dispatcher, QueuedDispatcher):
        # The drainer runs as long as the app: it delivers what this (or a dead) gateway queued.
        app.on_startup.append(lambda _app: dispatcher.start())
        app.on_cleanup.append(lambda _app: dispatcher.close())
    for mount in platforms.mounts:
        mount(app, dispatcher)
    return app
