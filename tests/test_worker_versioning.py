"""Worker Versioning on the embedded dev server: a deploy of session code that cannot replay
the running sessions' histories breaks none of them.

Build v1 serves two sessions mid-conversation; build v2 (a session workflow with an extra
timer before each answer, registered under the same type name) is deployed beside it and
promoted with the real CLI. The v1 sessions keep answering on v1, move to v2 at their next
continue-as-new (one because it reached THREADWORK_SESSION_MAX_TURNS_PER_RUN, one because
it noticed the new build after a turn, an idle one when `deploy promote --move-idle` wakes
it), new sessions start on v2, and `threadwork deploy status` shows the counts moving.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from aiohttp import web
from pydantic import ValidationError
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowHistory
from temporalio.common import WorkerDeploymentVersion
from temporalio.worker import Replayer

from bots import deployment
from bots.config import Settings
from bots.dispatch import Dispatcher
from bots.gateway import build_app
from bots.runner import worker_options
from bots.temporal import connect
from bots.wiring import build_platforms
from tests.support.next_build_session import NextBuildSession
from tests.support.stack import Stack, free_port
from workflows.data_converter import data_converter
from workflows.worker import build_worker

REPO = Path(__file__).resolve().parents[1]
TIMEOUT = 30


@contextlib.asynccontextmanager
async def versioned_stack(client: Client, data_dir: Path, name: str) -> AsyncIterator[tuple[Stack, Settings]]:
    """The gateway and build v1's worker of deployment ``name``, as `threadwork worker` runs it."""
    settings = Settings(
        data_dir=data_dir,
        webchat_auth="open",
        host="127.0.0.1",
        port=free_port(),
        task_queue=f"tq-{uuid.uuid4().hex[:8]}",
        deployment_name=name,
        build_id="v1",
        session_max_turns_per_run=3,
    )
    client = await connect(client.service_client.config.target_host, client.namespace)
    platforms = await build_platforms(settings)
    v1 = build_worker(client, platforms.registry, worker_options(settings, settings.deployment_version()))
    runner = web.AppRunner(
        build_app(client, Dispatcher(client, settings.task_queue, settings.session_config()), platforms)
    )
    await runner.setup()
    await web.TCPSite(runner, settings.host, settings.port).start()
    base_url = f"http://{settings.host}:{settings.port}"
    try:
        async with v1, httpx.AsyncClient(base_url=base_url, timeout=TIMEOUT) as http:
            stack = Stack(settings, client, platforms, v1, base_url, http)
            try:
                yield stack, settings
            finally:
                await stack.close_users()
    finally:
        await runner.cleanup()
        await platforms.close()


async def cli(client: Client, settings: Settings, *args: str) -> str:
    env = {
        **os.environ,
        "TEMPORAL_ADDRESS": client.service_client.config.target_host,
        "THREADWORK_DEPLOYMENT_NAME": settings.deployment_name,
        "THREADWORK_TASK_QUEUE": settings.task_queue,
    }
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bots.cli",
        *args,
        cwd=REPO,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), TIMEOUT)
    assert proc.returncode == 0, f"threadwork {' '.join(args)} exited {proc.returncode}: {err.decode()}"
    return out.decode()


def sessions_by_build(table: str) -> dict[str, tuple[str, int]]:
    """`threadwork deploy status` output as {build: (status, sessions)}."""
    rows = {}
    for line in table.splitlines()[2:]:
        parts = line.split()
        rows[parts[0]] = (parts[1], int(parts[-1]))
    return rows


async def wait_status(client: Client, settings: Settings, expected: dict[str, tuple[str, int]]) -> str:
    """Poll the CLI until it shows ``expected`` (visibility is eventually consistent); a
    status may list alternatives ("draining|drained": the server rechecks drainage now and then)."""
    deadline = asyncio.get_running_loop().time() + TIMEOUT
    while True:
        table = await cli(client, settings, "deploy", "status")
        shown = sessions_by_build(table)
        if shown.keys() == expected.keys() and all(
            shown[b][1] == count and shown[b][0] in status.split("|") for b, (status, count) in expected.items()
        ):
            return table
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"expected {expected}, `threadwork deploy status` shows:\n{table}")
        await asyncio.sleep(0.3)


async def build_of(client: Client, session_id: str) -> str:
    desc = await client.get_workflow_handle(session_id).describe()
    return desc.raw_description.workflow_execution_info.versioning_info.deployment_version.build_id


async def runs_of(client: Client, session_id: str) -> list[WorkflowHistory]:
    """Every run of the session, oldest first."""
    histories = []
    async for wf in client.list_workflows(f"WorkflowId = '{session_id}'"):
        histories.append(await client.get_workflow_handle(session_id, run_id=wf.run_id).fetch_history())
    return sorted(histories, key=lambda h: h.events[0].event_time.ToDatetime())


def answer_timers(history: WorkflowHistory) -> int:
    """The 1 ms timers NextBuildSession starts before each answer (idle timers are longer)."""
    return sum(
        1
        for e in history.events
        if e.event_type == EventType.EVENT_TYPE_TIMER_STARTED
        and e.timer_started_event_attributes.start_to_fire_timeout.ToMilliseconds() == 1
    )


def event_types(history: WorkflowHistory) -> list[int]:
    return [e.event_type for e in history.events]


async def test_a_deploy_of_incompatible_session_code_breaks_no_running_session(client, tmp_path):
    name = f"tw-{uuid.uuid4().hex[:8]}"
    async with versioned_stack(client, tmp_path, name) as (stack, settings):
        # The deployment's first worker makes its build current, as `threadwork worker` does.
        v1 = WorkerDeploymentVersion(name, "v1")
        assert "made current" in await deployment.adopt(stack.client, v1, force=False)

        # (1) Build v1 serves two sessions mid-conversation: A two turns in, B one.
        a = await stack.say("hello, I am A")
        await stack.say("A's second message", thread=a["thread"])
        b = await stack.say("hello, I am B")
        d = await stack.say("hello, I am D, and then I go quiet")
        await stack.wait_bot_messages(a["thread"], 2)
        await stack.wait_bot_messages(b["thread"], 1)
        await stack.wait_bot_messages(d["thread"], 1)
        shown = json.loads(await cli(client, settings, "sessions", "show", a["session_id"]))
        assert (shown["build"], shown["deployment"], shown["versioning"]) == ("v1", name, "pinned")
        await wait_status(client, settings, {"v1": ("current", 3)})

        # (2) Build v2 cannot replay v1's histories ...
        v1_history = (await runs_of(client, a["session_id"]))[0]
        replayed = await Replayer(workflows=[NextBuildSession], data_converter=data_converter).replay_workflow(
            v1_history, raise_on_replay_failure=False
        )
        assert replayed.replay_failure is not None and "nondetermin" in str(replayed.replay_failure).lower()
        # ... and is deployed beside v1 and promoted.
        v2_options = worker_options(settings, WorkerDeploymentVersion(name, "v2"))
        v2_options.replace_workflows = [NextBuildSession]
        async with build_worker(stack.client, stack.platforms.registry, v2_options):
            await wait_until_registered(stack.client, name, "v2")
            await wait_status(client, settings, {"v2": ("inactive", 0), "v1": ("current", 3)})
            assert "v2 is now the current build" in await cli(client, settings, "deploy", "promote", "v2")
            await wait_status(client, settings, {"v2": ("current", 0), "v1": ("draining", 3)})

            # (3) Running sessions keep answering: A's third turn ends its run (max 3 turns per
            # run), B's second turn shows it the new build; both continue on v2.
            await stack.say("A's third message", thread=a["thread"])
            await stack.say("B's second message", thread=b["thread"])
            await stack.wait_bot_messages(a["thread"], 3)
            await stack.wait_bot_messages(b["thread"], 2)
            for sid in (a["session_id"], b["session_id"]):
                await wait_for(lambda sid=sid: build_of(stack.client, sid), "v2")
            await stack.say("A's fourth message", thread=a["thread"])
            await stack.say("B's third message", thread=b["thread"])
            await stack.wait_bot_messages(a["thread"], 4)
            await stack.wait_bot_messages(b["thread"], 3)

            for sid, messages in ((a["session_id"], 4), (b["session_id"], 3)):
                runs = await runs_of(stack.client, sid)
                assert len(runs) == 2, f"{sid}: {len(runs)} runs"
                for run in runs:
                    assert EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED not in event_types(run), (
                        f"{sid}: a workflow task failed"
                    )
                # v1's run answered without v2's timer; v2's run after it.
                assert answer_timers(runs[0]) == 0 and answer_timers(runs[1]) >= 1
                assert (await stack.state(sid))["message_count"] == messages

            # D said nothing since: it waits on v1 until the operator moves idle sessions.
            assert await build_of(stack.client, d["session_id"]) == "v1"
            await wait_status(client, settings, {"v2": ("current", 2), "v1": ("draining", 1)})
            out = await cli(client, settings, "deploy", "promote", "v2", "--move-idle")
            assert "v2 is already the current build" in out and "woke 1 session(s)" in out
            await wait_for(lambda: build_of(stack.client, d["session_id"]), "v2")
            assert len(await stack.bot_messages(d["thread"])) == 1  # moved without a word
            await stack.say("D again", thread=d["thread"])
            await stack.wait_bot_messages(d["thread"], 2)
            d_runs = await runs_of(stack.client, d["session_id"])
            assert [answer_timers(r) for r in d_runs] == [0, 1]
            assert all(EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED not in event_types(r) for r in d_runs)

            # (4) New sessions start on v2.
            c = await stack.say("hello, I am C")
            await stack.wait_bot_messages(c["thread"], 1)
            assert await build_of(stack.client, c["session_id"]) == "v2"

            # (5) The counts moved.
            table = await wait_status(client, settings, {"v2": ("current", 4), "v1": ("draining|drained", 0)})
            assert table.splitlines()[0] == f"deployment {name}"


async def test_deploy_cli_errors_are_one_line(client, tmp_path):
    name = f"tw-{uuid.uuid4().hex[:8]}"
    env = {
        **os.environ,
        "TEMPORAL_ADDRESS": client.service_client.config.target_host,
        "THREADWORK_DEPLOYMENT_NAME": name,
    }
    for args, expected in (
        (["deploy", "status"], f"no Worker Deployment {name!r}"),
        (["deploy", "promote", "v9"], f"no Worker Deployment {name!r}"),
    ):
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bots.cli",
            *args,
            cwd=REPO,
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        _out, err = await asyncio.wait_for(proc.communicate(), TIMEOUT)
        lines = err.decode().strip().splitlines()
        assert proc.returncode == 2 and len(lines) == 1 and expected in lines[0], err.decode()

    async with versioned_stack(client, tmp_path, name) as (stack, _):
        await deployment.adopt(stack.client, WorkerDeploymentVersion(name, "v1"), force=False)
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bots.cli",
            "deploy",
            "promote",
            "v9",
            cwd=REPO,
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        _, err = await asyncio.wait_for(proc.communicate(), TIMEOUT)
        assert proc.returncode == 2
        assert err.decode().strip() == (
            f"error: deployment {name!r} has no build 'v9' (known: v1); start its workers first "
            "(THREADWORK_BUILD_ID=v9 threadwork worker)"
        )


async def wait_until_registered(client: Client, name: str, build: str) -> None:
    """A new build's workers register it with their first poll."""
    deadline = asyncio.get_running_loop().time() + TIMEOUT
    while True:
        desc = await deployment.describe(client, name)
        if build in (s.deployment_version.build_id for s in desc.worker_deployment_info.version_summaries):
            return
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"build {build} never registered in {name}")
        await asyncio.sleep(0.2)


async def wait_for(probe, expected) -> None:
    deadline = asyncio.get_running_loop().time() + TIMEOUT
    while (value := await probe()) != expected:
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"expected {expected!r}, got {value!r}")
        await asyncio.sleep(0.1)


async def test_versioned_dev_makes_its_build_current_with_no_extra_step(tmp_path: Path):
    """`threadwork dev` with THREADWORK_DEPLOYMENT_NAME set: the newcomer's first message is
    answered, and `deploy status` / `sessions show`, run from the same folder, see the build."""
    from tests.test_dev_restart import REPLY_DEADLINE, DevProcess, _bot_replies, _dev_env, _say, _tail, _until

    env = {**_dev_env(tmp_path), "THREADWORK_DEPLOYMENT_NAME": "devbox", "THREADWORK_BUILD_ID": "dev-1"}
    dev = DevProcess(env, tmp_path / "dev.log")
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{env['THREADWORK_PORT']}", timeout=TIMEOUT) as http:
            await dev.wait_healthy(http)
            sent = await _say(http, "hello from a versioned dev", None)
            await _until("the reply", lambda: _bot_replies(http, sent["thread"]), REPLY_DEADLINE, dev.proc, dev.log)

        async def run(*args: str) -> str:
            proc = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "bots.cli",
                *args,
                cwd=REPO,
                env=env,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
            )
            out, err = await asyncio.wait_for(proc.communicate(), TIMEOUT)
            assert proc.returncode == 0, err.decode() + _tail(dev.log)
            return out.decode()

        assert json.loads(await run("sessions", "show", sent["session_id"]))["build"] == "dev-1"
        deadline = asyncio.get_running_loop().time() + TIMEOUT
        while (rows := sessions_by_build(await run("deploy", "status"))) != {"dev-1": ("current", 1)}:
            assert asyncio.get_running_loop().time() < deadline, rows
            await asyncio.sleep(0.3)
        assert "serving build dev-1, made current of devbox" in dev.log.read_text()
        assert await dev.interrupt() == 0, _tail(dev.log)
    finally:
        dev.kill()


def test_settings_choose_the_deployment_version(monkeypatch):
    from workflows.build_id import code_build_id

    for var in ("THREADWORK_DEPLOYMENT_NAME", "THREADWORK_BUILD_ID"):
        monkeypatch.delenv(var, raising=False)
    settings = Settings(_env_file=None)
    # `threadwork worker` is versioned by default, on the hash of the workflow code ...
    assert settings.deployment_version() == WorkerDeploymentVersion("threadwork", code_build_id())
    # ... `threadwork dev` only when asked to.
    assert settings.deployment_version(dev=True) is None
    monkeypatch.setenv("THREADWORK_DEPLOYMENT_NAME", "tw")
    monkeypatch.setenv("THREADWORK_BUILD_ID", "2026.11.30-abc")
    assert Settings(_env_file=None).deployment_version(dev=True) == WorkerDeploymentVersion("tw", "2026.11.30-abc")
    monkeypatch.setenv("THREADWORK_DEPLOYMENT_NAME", "")
    assert Settings(_env_file=None).deployment_version() is None
    monkeypatch.setenv("THREADWORK_DEPLOYMENT_NAME", "tw.prod")
    with pytest.raises(ValidationError, match="THREADWORK_DEPLOYMENT_NAME"):
        Settings(_env_file=None)


def test_the_default_build_id_changes_with_the_workflow_code(tmp_path: Path):
    from workflows.build_id import code_build_id

    (tmp_path / "session.py").write_text("A = 1\n")
    (tmp_path / "notes.txt").write_text("not code\n")
    first = code_build_id(tmp_path)
    assert first.startswith("wf-") and len(first) == 15
    (tmp_path / "notes.txt").write_text("still not code\n")
    assert code_build_id.__wrapped__(tmp_path) == first
    (tmp_path / "session.py").write_text("A = 2\n")
    assert code_build_id.__wrapped__(tmp_path) != first
