"""Production-shaped processes for tests: `threadwork worker` / `threadwork gateway` subprocesses,
and a TCP relay that can stop passing a process's bytes to Temporal (a crash "between" two steps)."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[2]
START_DEADLINE = 90.0


def tail(log: Path) -> str:
    return log.read_text(errors="replace")[-4000:] if log.exists() else ""


class ThreadworkProcess:
    """One `python -m bots.cli worker|gateway` with its own data dir; output in ``log``."""

    def __init__(self, command: str, env: dict[str, str], log: Path) -> None:
        self.command = command
        self.log = log
        self.port = env.get("THREADWORK_PORT")
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

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def wait_healthy(self) -> None:
        loop = asyncio.get_running_loop()
        end = loop.time() + START_DEADLINE
        async with httpx.AsyncClient(base_url=self.url, timeout=5) as http:
            while True:
                if self.proc.poll() is not None:
                    raise AssertionError(f"{self.command} exited with {self.proc.returncode}:\n{tail(self.log)}")
                try:
                    if (await http.get("/healthz")).status_code == 200:
                        return
                except httpx.HTTPError:
                    pass
                if loop.time() > end:
                    raise AssertionError(
                        f"{self.command} did not become healthy in {START_DEADLINE:.0f}s:\n{tail(self.log)}"
                    )
                await asyncio.sleep(0.2)

    def kill(self) -> None:
        """SIGKILL: no cleanup, as a crashed host."""
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(30)


class Relay:
    """Loopback TCP relay to ``target``; ``hold_requests`` stops passing client bytes upstream."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.flowing = asyncio.Event()
        self.flowing.set()
        self.server: asyncio.base_events.Server | None = None
        self.port = 0
        self._tasks: set[asyncio.Task] = set()

    async def start(self) -> str:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]
        return f"127.0.0.1:{self.port}"

    def hold_requests(self) -> None:
        self.flowing.clear()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.close()
            return
        for task in (self._pump(reader, up_writer, gated=True), self._pump(up_reader, writer, gated=False)):
            t = asyncio.create_task(task)
            self._tasks.add(t)
            t.add_done_callback(self._tasks.discard)

    async def _pump(self, src: asyncio.StreamReader, dst: asyncio.StreamWriter, *, gated: bool) -> None:
        try:
            while data := await src.read(65536):
                if gated:
                    await self.flowing.wait()
                dst.write(data)
                await dst.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            dst.close()

    async def stop(self) -> None:
        if self.server is not None:
            self.server.close()
        for t in list(self._tasks):
            t.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
