"""The gateway: one aiohttp app with every adapter's routes, /healthz and /metrics."""

from __future__ import annotations

import asyncio
import logging
import sqlite3

from aiohttp import web
from aiohttp.typedefs import Handler
from temporalio.client import Client

from adapters.storage import StoreUnavailable
from bots import metrics
from bots.queued_dispatch import QueuedDispatcher
from bots.wiring import Platforms
from workflows.platform_port import SessionDispatcher

HEALTH_TIMEOUT = 2.0
STORE_UNAVAILABLE_TEXT = "the chat store is unavailable right now; please try again in a moment"
log = logging.getLogger(__name__)


@web.middleware
async def store_outage(request: web.Request, handler: Handler) -> web.StreamResponse:
    """A shared-database outage is a 503 the client may retry, logged in one line; nothing was stored."""
    try:
        return await handler(request)
    except StoreUnavailable as err:
        log.warning("%s %s: %s", request.method, request.path, err)
        return web.json_response({"error": STORE_UNAVAILABLE_TEXT}, status=503, headers={"Retry-After": "5"})
    except sqlite3.OperationalError as err:
        if "locked" not in str(err):
            raise
        # A data-dir SQLite file stayed locked past its busy timeout (an overloaded host): retryable.
        log.warning("%s %s: the SQLite store is busy (%s)", request.method, request.path, err)
        return web.json_response({"error": STORE_UNAVAILABLE_TEXT}, status=503, headers={"Retry-After": "5"})


def build_app(client: Client, dispatcher: SessionDispatcher, platforms: Platforms) -> web.Application:
    app = web.Application(client_max_size=2 * 1024 * 1024, middlewares=[store_outage])

    async def healthz(request: web.Request) -> web.Response:
        try:
            ok = await asyncio.wait_for(client.service_client.check_health(), HEALTH_TIMEOUT)
        except Exception as err:  # any failure to reach Temporal means unhealthy
            return web.json_response({"status": "unavailable", "temporal": str(err) or type(err).__name__}, status=503)
        if not ok:
            return web.json_response({"status": "unavailable", "temporal": "not serving"}, status=503)
        database = platforms.storage.database
        if database is not None:
            try:
                await asyncio.wait_for(database.pool.fetchval("SELECT 1"), HEALTH_TIMEOUT)
            except Exception as err:  # any failure to reach PostgreSQL means unhealthy
                return web.json_response(
                    {"status": "unavailable", "temporal": "ok", "database": str(err) or type(err).__name__}, status=503
                )
            return web.json_response(
                {"status": "ok", "temporal": "ok", "database": "ok", "platforms": platforms.registry.names()}
            )
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
