"""`threadwork dev` stopped and started again on the same data dir: the session goes on.

Runs the real CLI as a subprocess, with its own embedded Temporal dev server.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
from playwright.async_api import expect

from tests.support.browser import chromium
from tests.support.stack import free_port, is_streaming

REPO = Path(__file__).resolve().parent.parent
START_DEADLINE = 120.0
STOP_DEADLINE = 60.0
REPLY_DEADLINE = 60.0


def _children(pid: int) -> dict[int, str]:
    """pid -> command name of the live (non-zombie) children of ``pid``."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        name = stat[stat.index("(") + 1 : stat.rindex(")")]
        state, ppid = stat[stat.rindex(")") + 2 :].split()[:2]
        if int(ppid) == pid and state != "Z":
            found[int(entry.name)] = name
    return found


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat[stat.rindex(")") + 2] != "Z"


async def _until(what: str, check, deadline: float, proc: subprocess.Popen | None = None, log: Path | None = None):
    """Poll ``check`` (sync or async) until it returns something truthy; fail with the log after ``deadline``."""
    loop = asyncio.get_running_loop()
    end = loop.time() + deadline
    last = None
    while True:
        try:
            result = check()
            if asyncio.iscoroutine(result):
                result = await result
            if result:
                return result
        except (httpx.HTTPError, OSError) as err:
            last = err
        if proc is not None and proc.poll() is not None:
            raise AssertionError(
                f"threadwork dev exited with {proc.returncode} while waiting for {what}:\n{_tail(log)}"
            )
        if loop.time() > end:
            raise AssertionError(
                f"gave up waiting for {what} after {deadline:.0f}s (last error: {last}):\n{_tail(log)}"
            )
        await asyncio.sleep(0.25)


def _tail(log: Path | None) -> str:
    return log.read_text(errors="replace")[-4000:] if log and log.exists() else ""


class DevProcess:
    """One `python -m bots.cli dev` run, its output in a log file."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.log = log
        with open(log, "ab") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "bots.cli", "dev"],
                cwd=REPO,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )

    async def wait_healthy(self, http: httpx.AsyncClient) -> None:
        async def healthy() -> bool:
            return (await http.get("/healthz")).status_code == 200

        await _until("/healthz to answer 200", healthy, START_DEADLINE, self.proc, self.log)

    def temporal_pid(self) -> int:
        servers = [pid for pid, name in _children(self.proc.pid).items() if name == "temporal"]
        assert len(servers) == 1, f"expected one temporal child of {self.proc.pid}, found {_children(self.proc.pid)}"
        return servers[0]

    async def interrupt(self, deadline: float = STOP_DEADLINE) -> int:
        self.proc.send_signal(signal.SIGINT)
        await _until(
            "threadwork dev to exit after SIGINT", lambda: self.proc.poll() is not None, deadline, log=self.log
        )
        return self.proc.returncode

    def kill(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()


async def _bot_replies(http: httpx.AsyncClient, thread: str) -> list[str]:
    resp = await http.get("/webchat/api/channels/general/messages", params={"thread": thread})
    resp.raise_for_status()
    return [m["text"] for m in resp.json() if m["is_bot"] and not is_streaming(m)]


async def _say(http: httpx.AsyncClient, text: str, thread: str | None) -> dict:
    resp = await http.post(
        "/webchat/api/messages", json={"channel": "general", "thread": thread, "user": "dana", "text": text}
    )
    assert resp.status_code == 202, resp.text
    return resp.json()


def _dev_env(tmp_path: Path) -> dict[str, str]:
    """The environment of a fresh `threadwork dev`: own ports, own data dir, no TEMPORAL_ADDRESS."""
    env = {k: v for k, v in os.environ.items() if k != "TEMPORAL_ADDRESS"}
    env.update(
        THREADWORK_DATA_DIR=str(tmp_path / "data"),
        THREADWORK_PORT=str(free_port()),
        THREADWORK_DEV_TEMPORAL_PORT=str(free_port()),
        THREADWORK_DEV_UI_PORT=str(free_port()),
        PYTHONUNBUFFERED="1",
    )
    return env


async def test_dev_restart_on_same_data_dir_keeps_the_session(tmp_path: Path):
    env = _dev_env(tmp_path)
    port, temporal_port = env["THREADWORK_PORT"], env["THREADWORK_DEV_TEMPORAL_PORT"]
    log = tmp_path / "dev.log"
    runs: list[DevProcess] = []
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) as http:
        try:
            # First run: start a conversation and get its first reply.
            runs.append(first := DevProcess(env, log))
            await first.wait_healthy(http)
            assert "running on the uvloop event loop" in log.read_text(), _tail(log)  # the default
            server_pid = first.temporal_pid()
            # `threadwork dev` serves the web chat in open mode; this client keeps its identity cookie.
            me = (await http.get("/webchat/api/me")).json()
            assert me["mode"] == "open" and me["member"] is True and me["id"].startswith("webchat-")
            sent = await _say(http, "hello before the restart", None)
            thread, session_id = sent["thread"], sent["session_id"]
            replies = await _until(
                "the first reply", lambda: _bot_replies(http, thread), REPLY_DEADLINE, first.proc, log
            )
            assert "message 1" in replies[0]

            # Ctrl-C stops everything, the embedded Temporal server included.
            assert await first.interrupt() == 0, _tail(log)
            await _until(
                f"temporal dev server {server_pid} to be gone", lambda: not _alive(server_pid), STOP_DEADLINE, log=log
            )

            # Second run on the same data dir: the same session answers, counting on.
            runs.append(second := DevProcess(env, log))
            await second.wait_healthy(http)
            # The cookie key was kept in the data dir: the same browser is the same user after a restart.
            assert (await http.get("/webchat/api/me")).json()["id"] == me["id"]
            await _say(http, "hello after the restart", thread)

            async def second_reply() -> list[str]:
                texts = await _bot_replies(http, thread)
                return texts if len(texts) >= 2 else []

            replies = await _until("the reply after the restart", second_reply, REPLY_DEADLINE, second.proc, log)
            assert "message 2" in replies[1], replies

            show = await asyncio.to_thread(
                subprocess.run,
                [sys.executable, "-m", "bots.cli", "sessions", "show", session_id],
                cwd=REPO,
                env={**env, "TEMPORAL_ADDRESS": f"127.0.0.1:{temporal_port}"},
                capture_output=True,
                text=True,
                timeout=60,
            )
            assert show.returncode == 0, show.stderr
            state = json.loads(show.stdout)
            assert state["session_id"] == session_id
            assert state["message_count"] == 2
            assert [h["text"] for h in state["history"] if h["role"] == "user"] == [
                "hello before the restart",
                "hello after the restart",
            ]

            # The web chat still shows the history from before the restart.
            resp = await http.get("/webchat/api/channels/general/messages", params={"thread": thread})
            shown = [(m["is_bot"], m["text"]) for m in resp.json()]
            assert shown[0] == (False, "hello before the restart")
            assert shown[1][0] is True and "message 1" in shown[1][1]
            assert (False, "hello after the restart") in shown

            server_pid = second.temporal_pid()
            assert await second.interrupt() == 0, _tail(log)
            await _until(
                f"temporal dev server {server_pid} to be gone", lambda: not _alive(server_pid), STOP_DEADLINE, log=log
            )
        finally:
            for run in runs:
                run.kill()


async def test_open_page_survives_dev_restart(tmp_path: Path):
    """Ctrl-C with a browser tab open stops promptly; the tab reconnects and goes on live."""
    env = _dev_env(tmp_path)
    base_url = f"http://127.0.0.1:{env['THREADWORK_PORT']}"
    log = tmp_path / "dev.log"
    runs: list[DevProcess] = []
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as http, chromium() as browser:
        try:
            runs.append(first := DevProcess(env, log))
            await first.wait_healthy(http)
            page = await browser.new_page()
            page.set_default_timeout(REPLY_DEADLINE * 1000)
            await page.goto(f"{base_url}/")
            await page.get_by_test_id("user-name").fill("Eve")
            await page.get_by_test_id("composer-input").fill("hello before the restart")
            await page.get_by_test_id("composer-input").press("Enter")
            bot = page.locator('#messages [data-testid="message"][data-is-bot="true"]')
            await expect(bot).to_have_count(1)
            thread = page.url.rsplit("/", 1)[1]

            # The page's open event stream must not hold the gateway's shutdown (60 s in aiohttp).
            assert await first.interrupt(deadline=30) == 0, _tail(log)
            await expect(page.get_by_test_id("live-status")).to_have_attribute("data-state", "offline")

            runs.append(second := DevProcess(env, log))
            await second.wait_healthy(http)
            await expect(page.get_by_test_id("live-status")).to_have_attribute("data-state", "live")
            await _say(http, "hello from another tab", thread)
            # Right after a restart the answer may be preceded by "I'm catching up" (the session replays
            # first): what matters is that the answer arrives live, once.
            await expect(bot.filter(has_text="message 2")).to_have_count(1)
            await expect(page.locator('#messages [data-testid="message"][data-is-bot="false"]')).to_have_count(2)
            assert await second.interrupt(deadline=30) == 0, _tail(log)
        finally:
            for run in runs:
                run.kill()
