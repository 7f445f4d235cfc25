"""Fixtures of the fast layer: Temporal's time-skipping test server and the real worker on a recording platform.

Each test gets its own test server (it starts in about a tenth of a second): time skipping is
global to a server, so a timer left by one test can never fire in another.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from temporalio.runtime import LoggingConfig, Runtime, TelemetryConfig, TelemetryFilter
from temporalio.testing import WorkflowEnvironment

from adapters.base import PlatformRegistry
from tests.workflows.recording import RecordingPlatform
from tests.workflows.server import ServerBinaryMissing, installed_server
from tests.workflows.world import World
from workflows.data_converter import data_converter
from workflows.worker import WorkerOptions, build_worker

#: Not a directory and never one (a path below /dev/null).
NO_DOWNLOADS = "/dev/null/threadwork-tests-download-nothing"


@pytest.fixture(scope="session")
def test_server_binary() -> str:
    try:
        return installed_server()
    except ServerBinaryMissing as err:
        pytest.fail(str(err), pytrace=False)


@pytest.fixture(scope="session")
def test_server_runtime() -> Runtime:
    """Core's usual logging, less one warning the legacy test server causes at every worker start
    (it does not advertise a capability newer servers have; nothing here depends on it)."""
    quiet = TelemetryFilter(core_level="WARN", other_level="ERROR").formatted() + ",temporalio_sdk_core::worker=error"
    return Runtime(telemetry=TelemetryConfig(logging=LoggingConfig(filter=quiet)))


@pytest_asyncio.fixture
async def time_env(test_server_binary: str, test_server_runtime: Runtime) -> AsyncIterator[WorkflowEnvironment]:
    # With test_server_existing_path the SDK does not download. Should it ever try, the attempt
    # fails: the download directory is one nothing can be written to.
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=test_server_binary,
        download_dest_dir=NO_DOWNLOADS,
        data_converter=data_converter,
        runtime=test_server_runtime,
    )
    try:
        yield env
    finally:
        await env.shutdown()


@pytest_asyncio.fixture
async def world(time_env: WorkflowEnvironment) -> AsyncIterator[World]:
    platform = RecordingPlatform()
    registry = PlatformRegistry()
    registry.register(platform)
    w = World(env=time_env, platform=platform, registry=registry)
    async with build_worker(time_env.client, registry, WorkerOptions(task_queue=w.task_queue)):
        yield w
