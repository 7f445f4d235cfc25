"""Worker processes under test: ``threadwork worker`` itself, and the echo floor.

Each runs in its own process so its resident memory (VmRSS) can be read from /proc
and so the load generator does not share its event loop.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

READY = {"threadwork": "threadwork is running", "echo": "echo worker is running"}


def rss_mb(pid: int) -> float:
    """Resident set size of ``pid`` in MB (VmRSS from /proc/PID/status)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for pid {pid}")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time used so far by ``pid`` (all its threads), from /proc/PID/stat."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class WorkerProcess:
    """One worker of ``kind`` ("threadwork" or "echo") on its own task queue."""

    def __init__(self, kind: str, address: str, task_queue: str, max_cached: int, data_dir: Path) -> None:
        self.kind = kind
        self.address = address
        self.task_queue = task_queue
        self.max_cached = max_cached
        self.data_dir = data_dir
        self.log_path = data_dir / f"{task_queue}.log"
        self.process: subprocess.Popen[bytes] | None = None

    def command(self) -> tuple[list[str], dict[str, str]]:
        env = dict(os.environ)
        if self.kind == "threadwork":
            # The production worker exactly as operators run it (`threadwork worker`).
            env.update(
                TEMPORAL_ADDRESS=self.address,
                THREADWORK_TASK_QUEUE=self.task_queue,
                THREADWORK_DATA_DIR=str(self.data_dir / self.task_queue),
                THREADWORK_WORKER_MAX_CACHED_WORKFLOWS=str(self.max_cached),
            )
            return [sys.executable, "-m", "bots.cli", "worker"], env
        return [sys.executable, "-m", "bench.echo", self.address, self.task_queue, str(self.max_cached)], env

    def start(self, timeout: float = 60.0) -> None:
        cmd, env = self.command()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(
                cmd,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=env,
                cwd=Path(__file__).resolve().parent.parent,
            )
        deadline = time.monotonic() + timeout
        while READY[self.kind] not in self.log_path.read_text(errors="replace"):
            if self.process.poll() is not None:
                tail = self.log_path.read_text(errors="replace")[-2000:]
                raise RuntimeError(f"{self.kind} worker exited ({self.process.returncode}):\n{tail}")
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"{self.kind} worker did not start in {timeout:.0f}s; see {self.log_path}")
            time.sleep(0.1)

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def rss_mb(self) -> float:
        return rss_mb(self.pid)

    def cpu_seconds(self) -> float:
        return cpu_seconds(self.pid)

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def __enter__(self) -> WorkerProcess:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
