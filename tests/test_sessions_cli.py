"""`threadwork sessions list | show | end` against the real dev server, as a subprocess."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path

from tests.support.stack import free_port

REPO = Path(__file__).resolve().parents[1]


async def cli(client, *args: str) -> tuple[int, str, str]:
    env = {**os.environ, "TEMPORAL_ADDRESS": client.service_client.config.target_host}
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bots.cli",
        "sessions",
        *args,
        cwd=REPO,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await proc.communicate()
    return proc.returncode, out.decode(), err.decode()


async def test_list_show_end(stack):
    sent = await stack.say("hello from the CLI test")
    await stack.wait_bot_messages(sent["thread"], 1)
    sid = sent["session_id"]

    code, out, _ = await cli(stack.client, "list")
    assert code == 0 and sid in out

    code, out, _ = await cli(stack.client, "show", sid)
    assert code == 0
    state = json.loads(out)
    assert state["session_id"] == sid and state["message_count"] == 1 and state["is_active"] is True

    code, _, err = await cli(stack.client, "show", "webchat:general:no-such-thread")
    assert code == 1 and "no session" in err

    code, out, _ = await cli(stack.client, "end", sid)
    assert code == 0 and f"ended {sid}" in out
    bot = await stack.wait_bot_messages(sent["thread"], 2)
    assert "Session ended" in bot[1]["text"]
    code, out, _ = await cli(stack.client, "list")
    assert sid not in out
    code, out, _ = await cli(stack.client, "list", "--all")
    assert sid in out and "completed" in out

    code, _, err = await cli(stack.client, "end", sid)
    assert code == 1 and "no running session" in err


async def test_sessions_finds_the_dev_server_started_from_the_same_data_dir(tmp_path: Path):
    """`threadwork dev` on a non-default port; `sessions` in a shell that only shares the data dir finds it."""
    import httpx

    from tests.test_dev_restart import DevProcess, _dev_env, _say, _tail

    env = _dev_env(tmp_path)
    dev = DevProcess(env, tmp_path / "dev.log")
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{env['THREADWORK_PORT']}", timeout=30) as http:
            await dev.wait_healthy(http)
            sent = await _say(http, "hello from a dev server on its own port", None)
        other_shell = {
            k: v for k, v in env.items() if k not in ("THREADWORK_DEV_TEMPORAL_PORT", "THREADWORK_DEV_UI_PORT")
        }
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bots.cli",
            "sessions",
            "list",
            cwd=REPO,
            env=other_shell,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await asyncio.wait_for(proc.communicate(), 60)
        assert proc.returncode == 0, err.decode() + _tail(dev.log)
        assert sent["session_id"] in out.decode()
        assert await dev.interrupt() == 0, _tail(dev.log)
    finally:
        dev.kill()
    # Once it stopped, the hint names the folder instead of pretending a server should be there.
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bots.cli",
        "sessions",
        "list",
        cwd=REPO,
        env={**other_shell, "THREADWORK_DEV_TEMPORAL_PORT": str(free_port())},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    _, err = await asyncio.wait_for(proc.communicate(), 60)
    lines = err.decode().strip().splitlines()
    assert proc.returncode == 2 and len(lines) == 1 and "no `threadwork dev` runs from" in lines[0], err.decode()
