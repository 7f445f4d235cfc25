"""Continue-as-new after THREADWORK_SESSION_MAX_TURNS_PER_RUN turns: state, history and dedupe memory carry over."""

from __future__ import annotations

import pytest
from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError

from tests.workflows.inputs import thread_key
from tests.workflows.world import World


async def test_turns_past_the_limit_continue_as_new_carrying_the_state(world: World) -> None:
    key = thread_key()
    first = await world.start_session(key, max_turns_per_run=2)
    for n in range(1, 6):
        await world.say(key, f"message {n}", message_id=f"can-{n}")

    state = await world.state(key)
    assert state.runs == 3  # turns 1-2, 3-4, 5
    assert state.message_count == 5
    assert [h.text for h in state.history if h.role == "user"] == [f"message {n}" for n in range(1, 6)]
    assert "can-1" in state.recent_message_ids
    assert (await world.session(key).describe()).run_id != first.first_execution_run_id
    assert world.platform.texts(key)[-1] == 'Got it (message 5 in this conversation). Say "help" to see what I can do.'


async def test_a_message_from_an_earlier_run_is_refused_as_a_duplicate(world: World) -> None:
    key = thread_key()
    await world.start_session(key, max_turns_per_run=2)
    for n in range(1, 4):
        await world.say(key, f"message {n}", message_id=f"dup-{n}")

    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await world.say(key, "message 1", message_id="dup-1")

    assert isinstance(refused.value.cause, ApplicationError)
    assert refused.value.cause.type == "DuplicateMessage"
    state = await world.state(key)
    assert state.runs == 2
    assert state.message_count == 3
    assert len(world.platform.posts_in(key)) == 3
