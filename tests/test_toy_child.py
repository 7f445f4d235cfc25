"""A child workflow added from tests/ through one ChildSpec and one registry entry, no core file edited:
started by a trigger phrase and by name, with its own activity, options and session hooks."""

from __future__ import annotations

from pathlib import Path

from tests.support.events import wait_until
from tests.support.stack import running_stack
from tests.toy_child import ToyWorkflow
from workflows.chat_session import ChatSessionWorkflow
from workflows.contracts import Actor, TriggerRequest


def toy_registry(tmp_path: Path) -> Path:
    path = tmp_path / "custom.yaml"
    path.write_text("workflows:\n  - name: toy\n    entry_point: tests.toy_child:TOY_SPEC\n")
    return path


async def test_a_toy_child_from_a_spec_starts_by_trigger_and_by_name(client, tmp_path):
    async with running_stack(client, tmp_path, custom_workflows_file=toy_registry(tmp_path)) as stack:
        sent = await stack.say("shall we play with the toy?", user="alice")
        session_id, thread = sent["session_id"], sent["thread"]
        by_trigger = f"{session_id}/toy/1"
        # The child starts once the session's turn activity matched the rule: after the bot said so.
        texts = [m["text"] for m in await stack.wait_bot_messages(thread, 2)]
        said = await stack.client.get_workflow_handle_for(ToyWorkflow.run, by_trigger).result()
        assert said == "toy says SHALL WE PLAY WITH THE TOY? at level 7"  # start args from chat, level from configure
        assert texts[0].startswith("I've started the toy for ") and said in texts

        # The session's hooks: a chat command of the toy.
        await stack.say("toy ping", thread=thread, user="alice")
        await stack.wait_bot_messages(thread, 3)
        assert (await stack.bot_messages(thread))[-1]["text"] == "toy pong (the toy)"

        session = stack.client.get_workflow_handle(session_id)
        await session.signal(
            ChatSessionWorkflow.trigger_workflow,
            TriggerRequest(
                workflow_type="toy",
                title="by hand",
                actor=Actor(id="alice", name="alice"),
                request_id="cmd-1",
            ),
        )
        by_name = f"{session_id}/toy/2"

        async def played_by_name():
            return any(m["text"] == "toy says BY NAME at level 7" for m in await stack.bot_messages(thread))

        await wait_until(played_by_name, "the toy started by name")  # args from the hooks' prepare

        # "already running": the hooks answer instead of a third start.
        await session.signal(
            ChatSessionWorkflow.trigger_workflow,
            TriggerRequest(
                workflow_type="ToyChildWorkflow",
                title="play again",
                request_id="cmd-2",
            ),
        )

        async def answered():
            return any(m["text"] == "The toy was played here already." for m in await stack.bot_messages(thread))

        await wait_until(answered, "the toy's already-running answer")
        state = await stack.state(session_id)
        assert [(w["workflow_id"], w["display_name"]) for w in state["triggered_workflows"]] == [
            (by_trigger, "the toy"),
            (by_name, "the toy"),
        ]
        await wait_until(
            lambda: _statuses(stack, session_id),
            "both toys reported",
            timeout=15,
        )


async def _statuses(stack, session_id: str) -> bool:
    return [w["status"] for w in (await stack.state(session_id))["triggered_workflows"]] == ["played", "played"]
