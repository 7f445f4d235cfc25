"""threadwork as operators run it, in both shapes, pointed at the bench's fake platforms."""

from __future__ import annotations

import sys
from pathlib import Path

from bench.workers import WorkerProcess, cpu_seconds
from tests.slack.fake_slack import BOT_TOKEN
from tests.slack.support import SIGNING_SECRET
from tests.support.stack import free_port

#: Workflow cache of both sides' workers: larger than the conversations one shape opens (about
#: 600), so neither side evicts during the rounds. A full cache makes every new conversation wait
#: for an eviction first, and it filled unevenly (threadwork's runs end every few turns and free
#: their slots, the floor's never do); evicted sessions are measured on purpose by bench.run's
#: cold-turn section.
CACHED_WORKFLOWS = 2000

#: shape -> the `threadwork` commands it runs (each its own process).
SHAPES = {"one process": ["dev"], "gateway + worker": ["gateway", "worker"]}


class ThreadworkProcess(WorkerProcess):
    """`threadwork ROLE` (dev | gateway | worker) with the platform settings of the bench."""

    def __init__(self, role: str, address: str, task_queue: str, data_dir: Path, env: dict[str, str]) -> None:
        super().__init__("threadwork", address, task_queue, CACHED_WORKFLOWS, data_dir)
        self.role = role
        self.env = env
        self.log_path = data_dir / f"{task_queue}-{role}.log"

    def command(self) -> tuple[list[str], dict[str, str]]:
        _, env = super().command()
        env.update(self.env)
        return [sys.executable, "-m", "bots.cli", self.role], env


class Deployment:
    """The processes of one shape, sharing a task queue, a data directory and a gateway port."""

    def __init__(self, shape: str, address: str, task_queue: str, data_dir: Path, slack_api_url: str) -> None:
        self.port = free_port()
        env = {
            "THREADWORK_HOST": "127.0.0.1",
            "THREADWORK_PORT": str(self.port),
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_API_URL": slack_api_url,
            "TEAMS_ENABLED": "true",
        }
        self.processes = [ThreadworkProcess(role, address, task_queue, data_dir, env) for role in SHAPES[shape]]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        try:
            for process in self.processes:
                process.start()
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        for process in reversed(self.processes):
            process.stop()

    def cpu_seconds(self) -> dict[str, float]:
        """CPU used so far by each role (dev counts as both)."""
        return {p.role: cpu_seconds(p.pid) for p in self.processes}
