"""Running the processes: worker, gateway, or both around an embedded dev server."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal

from aiohttp import web
from temporalio.client import Client

from bots.config import Settings
from bots.devserver import DevServer
from bots.queued_dispatch import gateway_dispatcher
from bots.gateway import build_app
from bots.temporal import connect, runtime
from bots.wiring import Platforms, build_platforms
from workflows.activities.replies import LLMConfig
from workflows.worker import WorkerOptions, build_worker

log = logging.getLogger("threadwork")


def worker_options(settings: Settings) -> WorkerOptions:
    return WorkerOptions(
        task_queue=settings.task_queue,
        llm=LLMConfig(settings.llm_base_url, settings.llm_model, settings.llm_api_key, settings.llm_timeout),
        triggers_file=settings.triggers_file,
        max_cached_workflows=settings.worker_max_cached_workflows,
        document_max_bytes=settings.document_max_bytes,
        sources=settings.document_sources(),
        custom_workflows_file=settings.custom_workflows_file,
    )


def _stop_event() -> asyncio.Event:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    return stop


async def _start_gateway(settings: Settings, client: Client, platforms: Platforms) -> web.AppRunner:
    dispatcher = gateway_dispatcher(client, settings)
    runner = web.AppRunner(build_app(client, dispatcher, platforms), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, settings.host, settings.port).start()
    return runner


async def serve(settings: Settings, *, worker: bool, gateway: bool, dev: bool = False) -> None:
    """Run the requested halves until SIGINT/SIGTERM, then stop everything we started."""
    stop = _stop_event()
    devserver = None
    if dev and not settings.temporal_address:
        devserver = DevServer(settings.data_dir / "temporal", settings.dev_temporal_port, settings.dev_ui_port)
        log.info("starting the embedded Temporal dev server on %s", devserver.address)
        await devserver.start()
    runtime(settings.worker_metrics_port if worker and not gateway else None)
    platforms = await build_platforms(settings)
    http = None
    temporal_worker = None
    worker_task = None
    try:
        client = await connect(settings.temporal_target, settings.temporal_namespace, lazy=gateway and not worker)
        if worker:
            temporal_worker = build_worker(client, platforms.registry, worker_options(settings))
            worker_task = asyncio.create_task(temporal_worker.run())
        if gateway:
            http = await _start_gateway(settings, client, platforms)
        web_url = f"http://{settings.host}:{settings.port}/"
        print(f"threadwork is running (platforms: {', '.join(platforms.registry.names())})", flush=True)
        if gateway:
            print(f"  web chat:    {web_url}", flush=True)
        if devserver:
            print(f"  Temporal UI: {devserver.ui_url}", flush=True)
        print(f"  Temporal:    {settings.temporal_target}  (Ctrl-C stops)", flush=True)
        waiters = [asyncio.create_task(stop.wait())]
        if worker_task:
            waiters.append(worker_task)
        await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
        if worker_task and worker_task.done() and worker_task.exception():
            raise worker_task.exception()  # type: ignore[misc]
    finally:
        log.info("stopping")
        if http is not None:
            await http.cleanup()
        if temporal_worker is not None:
            with contextlib.suppress(Exception):
                await temporal_worker.shutdown()
        await platforms.close()
        if devserver is not None:
            await devserver.stop()
