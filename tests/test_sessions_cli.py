"""`threadwork sessions list | show | end` against the real dev server, as a subprocess."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


async def cli(client, *args: str) -> tuple[int, str, str]:
    env = {**os.environ, "TEMPORAL_ADDRESS": client.service_client.config.target_host}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bots.cli", "sessions", *args,
        cwd=REPO, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
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
