"""The determinism lint (workflows/ruff.toml, run by scripts/lint) refuses what the sandbox lets through.

The workers' sandbox passes every module through, so ``datetime.now()`` in a workflow module runs
unchecked (docs/architecture.md, "Determinism"). These tests run the venv's ruff from the repo root
with the project's own configuration (no ``--select``: a rule the project stopped selecting fails
here) on code given as a file in workflows/, and check where the ban applies and where it does not.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
RUFF = Path(sys.executable).parent / "ruff"

#: A module nobody has listed yet: the ban applies to it by default.
NEW_MODULE = "workflows/some_new_module.py"

#: Code a workflow must not run (by name), and the advice its refusal gives.
REFUSED = {
    "datetime.now": ("from datetime import datetime\n\nSTAMP = datetime.now()\n", "use workflow.now()"),
    "date.today": ("import datetime as dt\n\nDAY = dt.date.today()\n", "use workflow.now().date()"),
    "time.time": ("import time\n\nSTAMP = time.time()\n", "workflow.now() / workflow.time()"),
    "time.sleep": ("from time import sleep\n\nsleep(1)\n", "asyncio.sleep() is a durable timer"),
    "random": ("import random\n\nPICK = random.random()\n", "use workflow.random()"),
    "uuid4": ("from uuid import uuid4\n\nKEY = uuid4()\n", "use workflow.uuid4()"),
    "os.environ": ("import os\n\nHOME = os.environ['HOME']\n", "pass settings in the workflow input"),
    "os.getcwd": ("from os import getcwd\n\nHERE = getcwd()\n", "do I/O in an activity"),
    "threading": ("import threading\n\nLOCK = threading.Lock()\n", "no threads in workflow code"),
    "subprocess": ("import subprocess\n\nsubprocess.run(['true'], check=True)\n", "no processes in workflow code"),
    "socket": ("import socket\n\nsocket.gethostname()\n", "no network in workflow code"),
    "asyncio.wait": (
        "import asyncio\n\n\nasync def first(tasks: set[asyncio.Task[None]]) -> None:\n    await asyncio.wait(tasks)\n",
        "use workflow.wait()",
    ),
}

#: What workflow code does and the SDK supports: never refused.
ALLOWED = """\
import asyncio
import uuid
from datetime import datetime, timedelta

from temporalio import workflow


async def wait_a_bit(when: datetime | None, key: uuid.UUID) -> datetime:
    await asyncio.sleep(timedelta(minutes=5).total_seconds())  # a durable timer
    await asyncio.wait_for(asyncio.gather(asyncio.sleep(1)), timeout=10)
    await workflow.wait_condition(lambda: True, timeout=timedelta(seconds=1))
    _ = (workflow.random().random(), workflow.uuid4(), uuid.UUID(int=key.int))
    return when or workflow.now()
"""


def banned_api_findings(source: str, path: str) -> list[str]:
    """TID251 messages for ``source`` linted as the file ``path`` (relative to the repo root)."""
    run = subprocess.run(
        [str(RUFF), "check", "--no-cache", "--exit-zero", "--output-format", "json", "--stdin-filename", path, "-"],
        input=source,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return [d["message"] for d in json.loads(run.stdout) if d["code"] == "TID251"]


def workflow_modules() -> list[str]:
    """Every module in workflows/ that defines a workflow class."""
    return sorted(
        p.relative_to(REPO).as_posix()
        for p in (REPO / "workflows").rglob("*.py")
        if re.search(r"^@workflow\.defn", p.read_text(), re.MULTILINE)
    )


@pytest.mark.parametrize("name", list(REFUSED))
def test_a_new_workflow_module_may_not_use_what_replays_differently(name: str):
    source, advice = REFUSED[name]
    findings = banned_api_findings(source, NEW_MODULE)
    assert len(findings) == 1, findings
    assert "is banned: " in findings[0] and advice in findings[0], findings


@pytest.mark.parametrize("path", ["workflows/activities/turn.py", "workflows/worker.py", "adapters/some_adapter.py"])
@pytest.mark.parametrize("name", list(REFUSED))
def test_activities_worker_startup_and_code_outside_workflows_may(name: str, path: str):
    source, _ = REFUSED[name]
    assert banned_api_findings(source, path) == []


def test_what_the_sdk_supports_in_a_workflow_is_not_refused():
    assert banned_api_findings(ALLOWED, NEW_MODULE) == []


def test_no_module_that_runs_in_a_workflow_is_exempt():
    # Each workflow class's module, and the activities/ modules whose functions and models
    # workflow code calls; a new file in activities/ is checked until it is listed as an activity.
    modules = [
        *workflow_modules(),
        "workflows/activities/responder.py",
        "workflows/activities/models.py",
        "workflows/activities/some_new_activity.py",
    ]
    assert "workflows/chat_session.py" in modules and "workflows/incident/incident.py" in modules
    source, _ = REFUSED["datetime.now"]
    exempt = [m for m in modules if not banned_api_findings(source, m)]
    assert exempt == []
