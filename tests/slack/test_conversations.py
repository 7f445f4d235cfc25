"""Slack threads are sessions: mentions open them, replies continue them, answers go in the thread."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path

from temporalio.service import RPCError, RPCStatusCode

from tests.slack.support import new_ts


async def stack_has_workflow(stack, workflow_id: str) -> bool:
    try:
        await stack.client.get_workflow_handle(workflow_id).describe()
    except RPCError as err:
        if err.status != RPCStatusCode.NOT_FOUND:
            raise
        return False
    return True


async def threadwork_cli(*args: str, temporal: str, cwd: Path) -> tuple[int, str, str]:
    exe = Path(sys.executable).with_name("threadwork")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "THREADWORK_", "TEMPORAL_"))}
    env["TEMPORAL_ADDRESS"] = temporal
    proc = await asyncio.create_subprocess_exec(
        str(exe), *args, cwd=cwd, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, err = await proc.communicate()
    return proc.returncode, out.decode(), err.decode()


async def test_mention_gets_reply_in_thread_and_follow_up_reaches_same_session(slack, client, tmp_path):
    _stack, sim = slack
    root = await sim.mention("C1", "UALICE", "hello bot")
    session_id = f"slack:T1:C1:{root['ts']}"

    first = await sim.fake.wait_for(lambda: sim.fake.posts("C1", root["ts"]), what="the first reply")
    assert len(first) == 1
    assert "message 1" in first[0]["text"]
    assert first[0]["thread_ts"] == root["ts"]  # in the thread rooted at the mention

    # A follow-up in the thread, without a mention.
    follow = sim.message("C1", "UALICE", "and one more thing", thread_ts=root["ts"])
    assert (await sim.event(follow)).status_code == 200
    replies = await sim.fake.wait_for(
        lambda: len(sim.fake.posts("C1", root["ts"])) >= 2 and sim.fake.posts("C1", root["ts"]), what="the second reply"
    )
    assert "message 2" in replies[1]["text"]
    assert all(m["thread_ts"] == root["ts"] for m in replies)

    code, out, err = await threadwork_cli(
        "sessions", "show", session_id, temporal=client.service_client.config.target_host, cwd=tmp_path
    )
    assert code == 0, err
    state = json.loads(out)
    assert state["message_count"] == 2
    assert state["session_id"] == session_id
    assert state["participants"]["UALICE"]["name"] == "Alice"
    assert [h["text"] for h in state["history"] if h["role"] == "user"] == ["hello bot", "and one more thing"]


async def test_top_level_without_mention_and_unknown_threads_are_ignored(slack):
    stack, sim = slack
    plain = sim.message("C1", "UALICE", "just chatting, not for the bot")
    assert (await sim.event(plain)).status_code == 200
    stray = sim.message("C1", "UALICE", "a reply in someone else's thread", thread_ts=new_ts())
    assert (await sim.event(stray)).status_code == 200
    # A mention afterwards is answered: the two before it left nothing behind.
    root = await sim.mention("C1", "UBOB", "are you there?")
    await sim.fake.wait_for(lambda: sim.fake.posts("C1", root["ts"]), what="the reply to the mention")
    await asyncio.sleep(0.3)
    assert len(sim.fake.posts()) == 1
    for ignored in (plain, stray):
        assert not await stack_has_workflow(stack, f"slack:T1:C1:{ignored.get('thread_ts') or ignored['ts']}")


async def test_direct_messages_share_a_dm_session_and_dm_threads_are_their_own(slack):
    stack, sim = slack
    await sim.event(sim.message("D1", "UALICE", "hi in a DM"))
    await sim.fake.wait_for(lambda: sim.fake.posts("D1"), what="the DM reply")
    await sim.event(sim.message("D1", "UALICE", "another top-level DM"))
    posts = await sim.fake.wait_for(
        lambda: len(sim.fake.posts("D1")) >= 2 and sim.fake.posts("D1"), what="the second DM reply"
    )
    assert all(p["thread_ts"] is None for p in posts)  # top-level DMs are answered at the top level
    assert "message 2" in posts[1]["text"]
    assert (await stack.state("slack:T1:D1:dm"))["message_count"] == 2

    root_ts = posts[0]["ts"]
    await sim.event(sim.message("D1", "UALICE", "a thread in the DM", thread_ts=root_ts))
    threaded = await sim.fake.wait_for(lambda: sim.fake.posts("D1", root_ts), what="the DM thread reply")
    assert "message 1" in threaded[0]["text"]
    assert (await stack.state(f"slack:T1:D1:{root_ts}"))["message_count"] == 1


async def test_bare_mention_answers_with_help_and_buttons(slack):
    _stack, sim = slack
    root = await sim.mention("C1", "UALICE", "")
    # A streamed reply with blocks is finished by chat.update after chat.stopStream: wait for its final form.
    reply = (
        await sim.fake.wait_for(lambda: [m for m in sim.fake.posts("C1", root["ts"]) if m["blocks"]], what="help")
    )[0]
    assert reply["blocks"][0] == {
        "type": "header",
        "text": {"type": "plain_text", "text": "How I can help", "emoji": True},
    }
    actions = next(b for b in reply["blocks"] if b["type"] == "actions")
    values = [json.loads(e["value"]) for e in actions["elements"]]
    assert {v["a"] for v in values} == {"session.status", "session.help", "session.end"}
    assert {v["w"] for v in values} == {f"slack:T1:C1:{root['ts']}"}
    assert "I'm threadwork" in reply["text"]  # the text fallback


async def test_a_child_workflow_posts_its_progress_into_the_thread_that_started_it(slack):
    _stack, sim = slack
    root = await sim.mention("C1", "UALICE", "hello")
    ts = root["ts"]
    await sim.fake.wait_for(lambda: sim.fake.posts("C1", ts), what="the first reply")
    await sim.event(sim.message("C1", "UALICE", "we have a critical incident: checkout is down", thread_ts=ts))

    # The incident opens its own channel for its card and links to it from this thread.
    link = await sim.fake.wait_for(
        lambda: [m for m in sim.fake.posts("C1", ts) if "is being handled in <#C" in m["text"]],
        what="the incident link in the thread",
    )
    assert link[0]["thread_ts"] == ts and link[0]["text"].startswith("Incident SEV1 ")
    # The session's own answer races with the child's card; both land in the thread.
    started = await sim.fake.wait_for(
        lambda: [m for m in sim.fake.posts("C1", ts) if "I've started incident response" in m["text"]],
        what="the session's answer",
    )
    assert started[0]["thread_ts"] == ts
