"""A session replays the same whatever the custom-workflow registry says at replay time: the
children it may start travel in its own input (SessionConfig.children), not in worker state."""

from __future__ import annotations

from pathlib import Path

from temporalio.worker import Replayer

from adapters.base import PlatformRegistry
from tests.support.events import wait_until
from tests.support.stack import running_stack
from workflows.chat_session import ChatSessionWorkflow
from workflows.contracts import TriggerRequest
from workflows.data_converter import data_converter
from workflows.registry import load_registry
from workflows.worker import WorkerOptions, build_worker, registered_workflows

TOY = "entry_point: tests.toy_child:ToyWorkflow\n    activities: tests.toy_child:toy_shout\n"


async def test_a_registry_change_between_a_run_and_its_replay_does_not_break_replay(client, tmp_path: Path):
    first = tmp_path / "first.yaml"
    first.write_text(f"workflows:\n  - name: toy\n    {TOY}    triggers: ['\\bplay with the toy\\b']\n")
    async with running_stack(client, tmp_path, custom_workflows_file=first) as stack:
        sent = await stack.say("let us play with the toy", user="alice")
        session_id, thread = sent["session_id"], sent["thread"]
        await stack.client.get_workflow_handle(session_id).signal(
            ChatSessionWorkflow.trigger_workflow, TriggerRequest(workflow_type="toy", title="by name", request_id="r-1")
        )

        async def both_played():
            said = [m["text"] for m in await stack.bot_messages(thread)]
            return sum(t.startswith("toy says") for t in said) == 2 and said

        await wait_until(both_played, "two toys played")
        state = await stack.state(session_id)
        started = [w["workflow_id"] for w in state["triggered_workflows"]]
        assert started == [f"{session_id}/toy/1", f"{session_id}/toy/2"]
        history = await stack.client.get_workflow_handle(session_id).fetch_history()

    # The operator renames the entry (its name was the id segment and the short name) and drops
    # its phrase, and a worker starts with that file: the recorded run must still replay.
    second = tmp_path / "second.yaml"
    second.write_text(f"workflows:\n  - name: plaything\n    {TOY}")
    build_worker(client, PlatformRegistry(), WorkerOptions(custom_workflows_file=second))
    replayer = Replayer(workflows=registered_workflows(load_registry(second)), data_converter=data_converter)
    result = await replayer.replay_workflow(history, raise_on_replay_failure=True)
    assert result.replay_failure is None
