"""A triggers file broken while the bot runs keeps the last good rules and says so once.

Before issue 10 a broken file silently disabled every trigger, and a rule naming an
unregistered workflow (a typo) told users it had started it while the worker logged
NotFoundError forever.
"""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path

import pytest

from workflows.activities.triggering import TriggerActivities
from workflows.triggers import TriggerConfigError
from workflows.worker import WORKFLOWS, workflow_types

GOOD = "rules:\n  - name: incident\n    workflow: IncidentWorkflow\n    patterns: ['outage']\n"
GOOD_MORE = GOOD + "  - name: document\n    workflow: DocumentProcessingWorkflow\n    patterns: ['^summarize']\n"
BROKEN_YAML = "rules:\n  - name: x\n   workflow: [\n"
TYPO = "rules:\n  - name: incident\n    workflow: IncidentWorkflw\n    patterns: ['outage']\n"
KNOWN = workflow_types(WORKFLOWS)
LOGGER = "workflows.activities.triggering"


def edit(path: Path, text: str) -> None:
    """Rewrite the file with a strictly newer mtime (the reload key), however fast the test runs."""
    before = path.stat().st_mtime_ns if path.exists() else 0
    path.write_text(text)
    stamp = max(before, time.time_ns()) + 1_000_000_000
    os.utime(path, ns=(stamp, stamp))


async def started(acts: TriggerActivities, text: str) -> str | None:
    decision = await acts.match_trigger_now(text, [])
    return decision.workflow_type if decision else None


def warnings(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == LOGGER and r.levelno == logging.WARNING]


def test_a_rule_naming_an_unregistered_workflow_is_refused_at_start(tmp_path: Path):
    path = tmp_path / "triggers.yaml"
    path.write_text(TYPO)
    with pytest.raises(TriggerConfigError) as err:
        TriggerActivities(path, known_workflows=KNOWN)
    message = str(err.value)
    assert "\n" not in message
    assert str(path) in message and "rule 'incident'" in message and "'IncidentWorkflw'" in message
    assert "IncidentWorkflow" in message.split("known workflow types:")[1]


@pytest.mark.parametrize("bad", [BROKEN_YAML, TYPO, None], ids=["broken-yaml", "unknown-workflow", "deleted"])
async def test_a_bad_edit_keeps_the_last_good_rules_and_says_so_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, bad: str | None
):
    caplog.set_level(logging.WARNING, logger=LOGGER)
    path = tmp_path / "triggers.yaml"
    edit(path, GOOD)
    acts = TriggerActivities(path, known_workflows=KNOWN)
    assert await started(acts, "the API has an outage") == "IncidentWorkflow"

    if bad is None:
        path.unlink()
    else:
        edit(path, bad)
    for _ in range(5):
        assert await started(acts, "the API has an outage") == "IncidentWorkflow"
    said = warnings(caplog)
    assert len(said) == 1, [r.getMessage() for r in said]
    assert "keeping the last good trigger rules" in said[0].getMessage() and str(path) in said[0].getMessage()
    assert said[0].exc_info is None

    edit(path, GOOD_MORE)
    assert await started(acts, "summarize https://example.com/x.txt") == "DocumentProcessingWorkflow"
    assert "trigger rules reloaded: 2 rules" in warnings(caplog)[-1].getMessage()


async def test_each_new_breakage_is_said_once(tmp_path: Path, caplog: pytest.LogCaptureFixture):
    caplog.set_level(logging.WARNING, logger=LOGGER)
    path = tmp_path / "triggers.yaml"
    edit(path, GOOD)
    acts = TriggerActivities(path, known_workflows=KNOWN)
    edit(path, BROKEN_YAML)
    await started(acts, "outage")
    await started(acts, "outage")
    edit(path, TYPO)
    await started(acts, "outage")
    await started(acts, "outage")
    messages = [r.getMessage() for r in warnings(caplog)]
    assert len(messages) == 2 and "not valid YAML" in messages[0] and "IncidentWorkflw" in messages[1], messages


async def test_a_running_session_keeps_triggering_after_the_file_breaks(
    client, tmp_path: Path, caplog: pytest.LogCaptureFixture
):
    """Through the real worker and web chat: the incident still starts from the last good rules."""
    from tests.support.stack import running_stack

    caplog.set_level(logging.WARNING, logger=LOGGER)
    path = tmp_path / "triggers.yaml"
    edit(path, GOOD)
    async with running_stack(client, tmp_path, triggers_file=path) as stack:
        edit(path, BROKEN_YAML)
        sent = await stack.say("the API has an outage")
        await stack.wait_bot_messages(sent["thread"], 1)
        state = await stack.state(sent["session_id"])
        assert [w["workflow_type"] for w in state["triggered_workflows"]] == ["IncidentWorkflow"], state[
            "triggered_workflows"
        ]
    assert len(warnings(caplog)) == 1
