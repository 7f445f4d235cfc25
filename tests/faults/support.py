"""Production-shape processes for the fault tests: a dev server on a file database,
``threadwork gateway`` and ``threadwork worker`` as separate subprocesses.

Sizes are scaled down for CI; ``THREADWORK_FAULT_SCALE=full`` runs the issue's sizes
(docs/reliability.md has the command and the figures).
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx

from adapters.base import CATCHING_UP_TEXT
from bots.devserver import DevServer
from tests.support.stack import free_port, is_streaming

REPO = Path(__file__).resolve().parents[2]
FULL = os.environ.get("THREADWORK_FAULT_SCALE", "ci") == "full"
START_DEADLINE = 120.0
REPLY = re.compile(r"Got it \(message (\d+) in this conversation\)")


def scaled(ci: Any, full: Any) -> Any:
    return full if FULL else ci


def figure(name: str, text: str) -> None:
    """Print a case's figure (pytest -s shows it; docs/reliability.md records them)."""
    print(f"\nFIGURE {name}: {text}", flush=True)


class Process:
    """One ``python -m bots.cli <command>`` in its own process group, output in a log file."""

    def __init__(self, command: str, env: dict[str, str], log: Path) -> None:
        self.command = command
        self.env = env
        self.log = log
        with open(log, "ab") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "bots.cli", command],
                cwd=REPO,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )

    def alive(self) -> bool:
        return self.proc.poll() is None

    def kill(self) -> None:
        """SIGKILL: no cleanup, no graceful shutdown (the crash the tests are about)."""
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=30)

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()

    def tail(self) -> str:
        return self.log.read_text(errors="replace")[-3000:] if self.log.exists() else ""


class NotYet(Exception):
    """A check's answer that is not the awaited one yet; its text is reported if the wait gives up."""


async def until(what: str, check: Callable[[], Awaitable[Any]], deadline: float, *procs: Process) -> Any:
    """Poll ``check`` until truthy; fail with the processes' logs after ``deadline`` seconds."""
    end = time.monotonic() + deadline
    last: Exception | None = None
    while True:
        try:
            result = await check()
            if result:
                return result
        except (httpx.HTTPError, OSError, NotYet) as err:
            last = err
        for p in procs:
            if not p.alive():
                raise AssertionError(
                    f"{p.command} exited with {p.proc.returncode} while waiting for {what}:\n{p.tail()}"
                )
        if time.monotonic() > end:
            logs = "\n".join(f"--- {p.command}:\n{p.tail()}" for p in procs)
            raise AssertionError(f"gave up waiting for {what} after {deadline:.0f}s (last error: {last})\n{logs}")
        await asyncio.sleep(0.25)


class Deployment:
    """Temporal (file database) + worker + gateway sharing one data dir, as docker-compose runs them."""

    def __init__(self, tmp: Path, **env: str) -> None:
        self.tmp = tmp
        self.temporal = DevServer(tmp / "temporal", free_port(), free_port())
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(("THREADWORK_", "SLACK_", "TEAMS_"))}
        self.env.update(
            TEMPORAL_ADDRESS=self.temporal.address,
            THREADWORK_DATA_DIR=str(tmp / "data"),
            THREADWORK_PORT=str(self.port),
            THREADWORK_TASK_QUEUE="faults",
            # These cases are about delivery, not identity: every sender is a member, as in `threadwork dev`
            # (a `threadwork gateway` defaults to invite mode, where anonymous clients are guests).
            THREADWORK_WEBCHAT_AUTH="open",
            PYTHONUNBUFFERED="1",
            **env,
        )
        self.gateway: Process | None = None
        self.worker: Process | None = None
        self.runs = 0

    def _start(self, command: str) -> Process:
        self.runs += 1
        return Process(command, self.env, self.tmp / f"{command}-{self.runs}.log")

    async def start_worker(self) -> None:
        self.worker = self._start("worker")

    async def start_gateway(self, http: httpx.AsyncClient) -> None:
        self.gateway = self._start("gateway")

        async def healthy() -> bool:
            response = await http.get("/healthz")
            if response.status_code != 200:  # e.g. 503 while the gateway cannot reach Temporal: say why
                raise NotYet(f"{response.status_code} {response.text[:500]}")
            return True

        # The worker's log too: a gateway waiting for Temporal is often explained there.
        others = [self.worker] if self.worker is not None else []
        await until("the gateway's /healthz", healthy, START_DEADLINE, self.gateway, *others)

    async def restart_temporal(self) -> None:
        self.temporal = DevServer(self.temporal.data_dir, self.temporal.port, self.temporal.ui_port)
        await self.temporal.start()

    async def close(self) -> None:
        for p in (self.gateway, self.worker):
            if p is not None:
                p.kill()
        await self.temporal.stop()

    def processes(self) -> list[Process]:
        return [p for p in (self.gateway, self.worker) if p is not None]


async def say(http: httpx.AsyncClient, text: str, thread: str | None = None, user: str = "dana") -> dict:
    """One web chat message, never resent: 202 (taken or queued) is the only acceptable answer."""
    resp = await http.post(
        "/webchat/api/messages", json={"channel": "general", "thread": thread, "user": user, "text": text}
    )
    assert resp.status_code == 202, resp.text
    return resp.json()


async def thread_messages(http: httpx.AsyncClient, thread: str) -> list[dict]:
    resp = await http.get("/webchat/api/channels/general/messages", params={"thread": thread})
    resp.raise_for_status()
    return resp.json()


def answer_numbers(messages: list[dict]) -> list[int]:
    """The "message N" of every finished bot answer in a thread (notices like "catching up" and
    replies still being streamed excluded)."""
    found = []
    for m in messages:
        if m["is_bot"] and m["text"] != CATCHING_UP_TEXT and not is_streaming(m):
            match = REPLY.search(m["text"])
            assert match, f"unexpected bot message: {m['text']!r}"
            found.append(int(match.group(1)))
    return found


def catching_up_notes(messages: list[dict]) -> int:
    return sum(1 for m in messages if m["is_bot"] and m["text"] == CATCHING_UP_TEXT)
