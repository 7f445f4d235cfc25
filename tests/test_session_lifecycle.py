"""ChatSessionWorkflow through the real gateway and a real Temporal dev server."""

from __future__ import annotations

import asyncio

from temporalio.client import WorkflowExecutionStatus

from tests.support.stack import running_stack
from workflows.chat_session import ChatSessionWorkflow


async def test_first_message_starts_session_and_replies(stack):
    sent = await stack.say("hello there")
    assert sent["session_id"] == f"webchat:general:{sent['thread']}"
    bot = await stack.wait_bot_messages(sent["thread"], 1)
    assert "message 1" in bot[0]["text"]

    await stack.say("and again", thread=sent["thread"])
    bot = await stack.wait_bot_messages(sent["thread"], 2)
    assert "message 2" in bot[1]["text"]

    state = await stack.state(sent["session_id"])
    assert state["message_count"] == 2
    assert state["platform"] == "webchat"
    assert state["is_active"] is True
    assert [h["role"] for h in state["history"]] == ["user", "assistant", "user", "assistant"]
    assert state["participants"]["alice"]["message_count"] == 2


async def test_repeated_message_id_is_answered_once(stack):
    first = await stack.say("deliver me twice", message_id="m-dup-1")
    again = await stack.say("deliver me twice", thread=None, message_id="m-dup-1")
    assert again["thread"] == first["thread"]
    await stack.wait_bot_messages(first["thread"], 1)
    await asyncio.sleep(0.5)
    assert len(await stack.bot_messages(first["thread"])) == 1
    assert (await stack.state(first["session_id"]))["message_count"] == 1


async def test_guest_limit_then_upgrade(client, tmp_path):
    async with running_stack(client, tmp_path, guest_message_limit=2) as stack:
        first = await stack.say("hi", user="gus", guest=True)
        thread = first["thread"]
        await stack.say("second", thread=thread, user="gus", guest=True)
        await stack.wait_bot_messages(thread, 2)
        await stack.say("third", thread=thread, user="gus", guest=True)
        bot = await stack.wait_bot_messages(thread, 3)
        assert "limit" in bot[2]["text"]
        assert "member" in bot[2]["text"]
        state = await stack.state(first["session_id"])
        assert state["message_count"] == 2  # the over-limit message is not counted
        assert [h["text"] for h in state["history"] if h["role"] == "user"] == ["hi", "second"]

        # The same person, now a member, goes on without a limit.
        await stack.say("I'm a member now", thread=thread, user="gus", guest=False)
        bot = await stack.wait_bot_messages(thread, 4)
        assert "limit" not in bot[3]["text"]
        assert (await stack.state(first["session_id"]))["message_count"] == 3


async def test_idle_session_says_goodbye_and_next_message_starts_fresh_run(client, tmp_path):
    async with running_stack(client, tmp_path, session_idle_timeout=1.5) as stack:
        first = await stack.say("hello")
        handle = client.get_workflow_handle(first["session_id"])
        bot = await stack.wait_bot_messages(first["thread"], 2, timeout=20)
        assert "quiet" in bot[1]["text"]
        assert (await handle.describe()).status == WorkflowExecutionStatus.COMPLETED

        await stack.say("I'm back", thread=first["thread"])
        bot = await stack.wait_bot_messages(first["thread"], 3)
        assert "message 1" in bot[2]["text"]  # a fresh run under the same id
        assert (await handle.describe()).status == WorkflowExecutionStatus.RUNNING


async def test_end_command_closes_session(stack):
    first = await stack.say("hello")
    await stack.wait_bot_messages(first["thread"], 1)
    await stack.say("end", thread=first["thread"])
    bot = await stack.wait_bot_messages(first["thread"], 2)
    assert "Goodbye" in bot[1]["text"]
    result = await stack.client.get_workflow_handle_for(ChatSessionWorkflow.run, first["session_id"]).result()
    assert result.is_active is False
    assert result.message_count == 2


async def test_incident_message_starts_child_that_posts_back(stack):
    first = await stack.say("we have a critical incident: payments are down")
    bot = await stack.wait_bot_messages(first["thread"], 2)
    texts = " | ".join(m["text"] for m in bot)
    assert "SEV1" in texts and "incident" in texts.lower()
    state = await stack.state(first["session_id"])
    [child] = state["triggered_workflows"]
    assert child["workflow_id"] == f"{first['session_id']}/incident/1"
    assert child["workflow_type"] == "IncidentWorkflow"
    assert child["status"] == "running"
    assert child["started_at"]
    triggered = await stack.client.get_workflow_handle(first["session_id"]).query(
        ChatSessionWorkflow.get_triggered_workflows
    )
    assert [t.workflow_id for t in triggered] == [child["workflow_id"]]
    incident = await stack.client.get_workflow_handle(child["workflow_id"]).describe()
    assert incident.status == WorkflowExecutionStatus.RUNNING


async def test_trigger_workflow_signal_starts_named_child(stack):
    first = await stack.say("hello")
    await stack.wait_bot_messages(first["thread"], 1)
    handle = stack.client.get_workflow_handle(first["session_id"])
    from workflows.contracts import TriggerRequest

    await handle.signal(
        ChatSessionWorkflow.trigger_workflow, TriggerRequest(workflow_type="IncidentWorkflow", title="db failover")
    )
    await handle.signal(ChatSessionWorkflow.trigger_workflow, TriggerRequest(workflow_type="NoSuchWorkflow"))
    bot = await stack.wait_bot_messages(first["thread"], 4)
    texts = [m["text"] for m in bot]
    assert any("db failover" in t for t in texts)
    assert any("don't know a workflow called 'NoSuchWorkflow'" in t for t in texts)
    state = await stack.state(first["session_id"])
    assert [w["title"] for w in state["triggered_workflows"]] == ["db failover"]
