"""Recorded histories must replay with today's workflow code.

A change that would break sessions already running in production fails here.
Re-record (python -m tests.histories.record) only for a deliberate, versioned change.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer

from workflows.data_converter import data_converter
from workflows.sandbox_runner import workflow_runner
from workflows.worker import WORKFLOWS

HISTORIES = sorted((Path(__file__).parent / "histories").glob("*.json"))


def test_every_workflow_type_has_recorded_histories():
    types = {
        json.loads(p.read_text())["events"][0]["workflowExecutionStartedEventAttributes"]["workflowType"]["name"]
        for p in HISTORIES
    }
    assert {w.__name__ for w in WORKFLOWS} <= types


#: The SDK's default sandbox (the strictest: nothing passed through) and the workers' own runner.
RUNNERS = {"default-sandbox": dict, "worker-runner": lambda: {"workflow_runner": workflow_runner()}}


@pytest.mark.parametrize("runner", RUNNERS)
@pytest.mark.parametrize("path", HISTORIES, ids=[p.stem for p in HISTORIES])
async def test_history_replays(path: Path, runner: str):
    history = WorkflowHistory.from_json(path.stem, path.read_text())  # noqa: ASYNC240 - a small file, in a test
    replayer = Replayer(workflows=WORKFLOWS, data_converter=data_converter, **RUNNERS[runner]())
    result = await replayer.replay_workflow(history, raise_on_replay_failure=True)
    assert result.replay_failure is None
