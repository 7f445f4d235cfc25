"""Running the processes: worker, gateway, or both around an embedded dev server."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import re
import signal
from typing import Any

from aiohttp import web
from temporalio.client import Client
from temporalio.common import WorkerDeploymentVersion
from temporalio.service import RPCError

from bots import deployment as deployments
from bots import event_loop
from bots.config import Settings
from bots.devserver import DevServer
from bots.dispatch import Dispatcher
from bots.errors import StartupError
from bots.gateway import build_app
from bots.ports import PortClaim
from bots.queued_dispatch import gateway_dispatcher
from bots.refused_notice import refused_notice
from bots.temporal import connect, runtime
from bots.wiring import Platforms, build_platforms
from workflows.activities.replies import LLMConfig
from workflows.worker import WorkerOptions, build_worker

log = logging.getLogger("threadwork")


def worker_options(settings: Settings, deployment: WorkerDeploymentVersion | None = None) -> WorkerOptions:
    return WorkerOptions(
        deployment=deployment,
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
    dispatcher = gateway_dispatcher(client, settings, platforms.storage, refused_notice(platforms.registry))
    runner = web.AppRunner(build_app(client, dispatcher, platforms), access_log=None)
    await runner.setup()
    try:
        await web.TCPSite(runner, settings.host, settings.port).start()
    except OSError as err:
        await runner.cleanup()
        claim = PortClaim(settings.host, settings.port, "the gateway and web chat", "THREADWORK_PORT")
        line = (
            claim.in_use_line()
            if err.errno == errno.EADDRINUSE
            else f"cannot listen on {settings.host}:{settings.port}: {err.strerror or err}; check THREADWORK_HOST / THREADWORK_PORT"
        )
        raise StartupError(line) from err
    return runner


def _connect_detail(text: str) -> str:
    """The useful end of the Rust core's error ("Connection refused", a DNS failure)."""
    found = re.findall(r'(?:message|error): "([^"]+)"', text)
    return found[-1] if found else " ".join(text.split())[:300]


async def _connect(settings: Settings, lazy: bool) -> Client:
    try:
        return await connect(settings.temporal_target, settings.temporal_namespace, lazy=lazy)
    except RuntimeError as err:  # the Rust core's connection errors
        where = "TEMPORAL_ADDRESS" if settings.temporal_address else "the embedded dev server"
        detail = _connect_detail(str(err))
        raise StartupError(
            f"cannot reach Temporal at {settings.temporal_target} ({where}): {detail}; "
            "check that the server runs and the address is right"
        ) from err


async def _adopt(
    client: Client, version: WorkerDeploymentVersion, *, force: bool, worker_task: asyncio.Task | None
) -> None:
    """A versioned worker becomes current on a deployment's first start (and always in dev)."""
    adopting = asyncio.create_task(deployments.adopt(client, version, force=force))
    waiters: list[asyncio.Future] = [adopting] + ([worker_task] if worker_task else [])
    await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
    if not adopting.done():  # the worker stopped first: its error is the one to report
        adopting.cancel()
        return
    try:
        log.info("%s", adopting.result())
    except deployments.DeploymentError as err:
        log.warning("%s", err)
    except RPCError as err:  # e.g. a server without Worker Deployments: the worker still serves
        log.warning("could not check the current build of %s: %s", version.deployment_name, err.message)


async def serve(settings: Settings, *, worker: bool, gateway: bool, dev: bool = False) -> None:
    """Run the requested halves until SIGINT/SIGTERM, then stop everything we started."""
    stop = _stop_event()
    devserver = None
    if dev and settings.webchat_auth is None:
        settings = settings.model_copy(update={"webchat_auth": "open"})  # anyone at the dev machine is a member
    if dev and not settings.temporal_address:
        devserver = DevServer(settings.data_dir / "temporal", settings.dev_temporal_port, settings.dev_ui_port)
        devserver.check()
        log.info("starting the embedded Temporal dev server on %s", devserver.address)
        await devserver.start()
    platforms = None
    http = None
    temporal_worker = None
    worker_task = None
    try:
        runtime(settings.worker_metrics_port if worker and not gateway else None)
        platforms = await build_platforms(settings)
        client = await _connect(settings, lazy=gateway and not worker)
        version = settings.deployment_version(dev=dev) if worker else None
        if worker:
            platforms.use_dispatcher(Dispatcher(client, settings.task_queue, settings.session_config()))
            temporal_worker = build_worker(client, platforms.registry, worker_options(settings, version))
            worker_task = asyncio.create_task(temporal_worker.run())
        if version is not None:
            await _adopt(client, version, force=dev, worker_task=worker_task)
        if gateway:
            http = await _start_gateway(settings, client, platforms)
        web_url = f"http://{settings.host}:{settings.port}/"
        log.info("running on the %s event loop (THREADWORK_EVENT_LOOP)", event_loop.name_of(asyncio.get_running_loop()))
        print(f"threadwork is running (platforms: {', '.join(platforms.registry.names())})", flush=True)
        if gateway:
            print(f"  web chat:    {web_url}  ({settings.webchat_auth or 'invite'} mode: README, Web chat)", flush=True)
        if devserver:
            print(f"  Temporal UI: {devserver.ui_url}", flush=True)
        print(f"  Temporal:    {settings.temporal_target}  (Ctrl-C stops)", flush=True)
        waiters: list[asyncio.Task[Any]] = [asyncio.create_task(stop.wait())]
        if worker_task:
            waiters.append(worker_task)
        await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
        if worker_task and worker_task.done() and (failure := worker_task.exception()) is not None:
            raise failure
    finally:
        if http is not None or temporal_worker is not None:
            log.info("stopping")
        if http is not None:
            await http.cleanup()
        if temporal_worker is not None:
            with contextlib.suppress(Exception):
                await temporal_worker.shutdown()
        if platforms is not None:
            await platforms.close()
        if devserver is not None:
            await devserver.stop()
