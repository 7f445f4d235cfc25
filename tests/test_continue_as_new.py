"""Continue-as-new keeps the session's state and its dedupe memory."""

from __future__ import annotations

import asyncio

from tests.support.stack import running_stack


async def test_continue_as_new_carries_state_and_dedupe(client, tmp_path):
    async with running_stack(client, tmp_path, session_max_turns_per_run=3) as stack:
        first = await stack.say("one", message_id="can-1")
        thread, session_id = first["thread"], first["session_id"]
        handle = client.get_workflow_handle(session_id)
        first_run = (await handle.describe()).run_id
        for n in range(2, 6):
            await stack.say(f"message {n}", thread=thread, message_id=f"can-{n}")
            await stack.wait_bot_messages(thread, n)

        state = await stack.state(session_id)
        assert state["message_count"] == 5
        assert state["runs"] == 2
        assert [h["text"] for h in state["history"] if h["role"] == "user"] == [
            "one",
            "message 2",
            "message 3",
            "message 4",
            "message 5",
        ]
        assert "can-1" in state["recent_message_ids"]
        assert (await handle.describe()).run_id != first_run

        # A platform redelivers a message from the first run: recognised, not answered again.
        resp = await (await stack.user("alice")).post(
            "/webchat/api/messages",
            json={"channel": "general", "thread": thread, "user": "alice", "text": "one", "message_id": "can-1"},
        )
        assert resp.status_code == 202
        await asyncio.sleep(0.5)
        assert len(await stack.bot_messages(thread)) == 5
        assert (await stack.state(session_id))["message_count"] == 5
