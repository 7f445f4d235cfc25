"""A post the platform keeps refusing is retried for the whole platform retry window (default one hour), then given up.

The end-to-end fault tests use windows of seconds; here the default window runs in workflow time.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio.client import WorkflowUpdateStage

from tests.workflows.inputs import ChatSessionWorkflow, message, thread_key
from tests.workflows.world import World, minutes


async def test_a_reply_refused_for_the_whole_hour_is_kept_as_undelivered_and_the_session_goes_on(world: World) -> None:
    key = thread_key()
    await world.start_session(key)  # platform_retry_window_seconds: the default hour
    world.platform.go_down("slack is down (HTTP 503)")
    started = await world.now()
    update = await world.session(key).start_update(
        ChatSessionWorkflow.receive_message, message(key, "hello"), wait_for_stage=WorkflowUpdateStage.ACCEPTED
    )

    await world.skip(timedelta(minutes=61))
    await update.result()
    world.platform.come_back()
    await world.say(key, "are you back?")

    [lost] = (await world.state(key)).undelivered
    assert lost.reason == "still failing when the platform retry window closed: slack is down (HTTP 503)"
    assert lost.text.startswith("Got it (message 1 in this conversation).")
    # Given up when the next attempt (a minute later) would fall outside the hour.
    assert 59.0 <= minutes(lost.at - started) <= 60.0
    # Backoff 1 s, 2 s, 4 s ... capped at a minute: dozens of attempts, not thousands.
    assert 50 <= world.platform.refused <= 70
    assert world.platform.texts(key) == [
        'Got it (message 2 in this conversation). Say "help" to see what I can do.',
    ]
