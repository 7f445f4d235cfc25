"""`threadwork dev` talks only to the Temporal server it started (issue 10).

With its Temporal port held by another running ``temporal server start-dev`` it exits
non-zero with one line naming the port and the variable that changes it, instead of
serving the other server. The pre-start check cannot close the race of a server that
takes the port between check and start, so ``DevServer`` also refuses a health check
answered by a process other than its child.
"""

from __future__ import annotations

import asyncio
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from temporalio.client import Client

from bots.devserver import DevServer, DevServerError, temporal_binary
from tests.support.stack import free_port
from tests.test_operator_errors import assert_one_line, run

OTHER_SERVER_DEADLINE = 60.0


def _answers(port: int) -> bool:
    async def probe() -> bool:
        try:
            client = await Client.connect(f"127.0.0.1:{port}")
            await client.service_client.check_health()
        except Exception:
            return False
        return True

    return asyncio.run(probe())


@pytest.fixture
def other_temporal(tmp_path: Path) -> Iterator[int]:
    """Another `temporal server start-dev` on a free port; yields its port."""
    port = free_port()
    proc = subprocess.Popen(
        [
            temporal_binary(),
            "server",
            "start-dev",
            "--ip",
            "127.0.0.1",
            "--port",
            str(port),
            "--headless",
            "--db-filename",
            str(tmp_path / "other.db"),
            "--log-level",
            "error",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        stdin=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + OTHER_SERVER_DEADLINE
        while not _answers(port):
            assert proc.poll() is None, f"the other temporal server exited with {proc.returncode}"
            assert time.monotonic() < deadline, "the other temporal server did not answer in time"
            time.sleep(0.3)
        yield port
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=15)


def test_dev_refuses_a_temporal_port_held_by_another_server(tmp_path: Path, other_temporal: int):
    result = run(
        tmp_path,
        ["dev"],
        {
            "THREADWORK_DEV_TEMPORAL_PORT": str(other_temporal),
            "THREADWORK_DEV_UI_PORT": str(free_port()),
            "THREADWORK_PORT": str(free_port()),
        },
    )
    line = assert_one_line(
        result, f"port {other_temporal} on 127.0.0.1", "already in use", "THREADWORK_DEV_TEMPORAL_PORT"
    )
    assert "Temporal" in line
    assert not (tmp_path / "data" / "temporal" / "temporal.db").exists(), "no dev server may have been started"


def test_dev_refuses_a_taken_ui_port(tmp_path: Path, other_temporal: int):
    result = run(
        tmp_path,
        ["dev"],
        {
            "THREADWORK_DEV_TEMPORAL_PORT": str(free_port()),
            "THREADWORK_DEV_UI_PORT": str(other_temporal),
            "THREADWORK_PORT": str(free_port()),
        },
    )
    assert_one_line(result, f"port {other_temporal}", "THREADWORK_DEV_UI_PORT")


async def test_health_check_answered_by_another_server_is_refused(tmp_path: Path, client: Client):
    """The race: the port was free at the check, then another server took it before our child bound it."""
    other_port = int(client.service_client.config.target_host.rsplit(":", 1)[1])
    server = DevServer(tmp_path / "temporal", other_port, free_port())
    server.check_ports = lambda: None  # the other server arrived after the check
    try:
        with pytest.raises(DevServerError) as err:
            await server.start(timeout=30)
    finally:
        await server.stop()
    assert f"port {other_port}" in str(err.value) and "THREADWORK_DEV_TEMPORAL_PORT" in str(err.value)
    assert "\n" not in str(err.value)
