"""A session ends itself after a day of silence (THREADWORK_SESSION_IDLE_TIMEOUT), and only then."""

from __future__ import annotations

from datetime import timedelta

from temporalio.api.enums.v1 import EventType

from tests.workflows.inputs import thread_key
from tests.workflows.world import World

DAY = timedelta(hours=24)


async def test_a_day_of_silence_ends_the_session_with_a_goodbye(world: World) -> None:
    key = thread_key()
    handle = await world.start_session(key)
    spoke_at = await world.now()  # before: the session's clock starts when it handles the message
    await world.say(key, "hello")

    state = await handle.result()  # time skips to the idle timer

    assert state.is_active is False
    goodbye = world.platform.posts_in(key)[-1]
    assert goodbye.text.startswith("This conversation has been quiet for 24 hours, so I'm closing the session.")
    assert goodbye.at - spoke_at >= DAY
    assert goodbye.at - spoke_at < DAY + timedelta(minutes=1)


async def test_a_message_before_the_day_is_over_keeps_the_session_open(world: World) -> None:
    key = thread_key()
    handle = await world.start_session(key)
    await world.say(key, "hello")
    await world.skip(timedelta(hours=23))
    spoke_at = await world.now()
    await world.say(key, "still here")
    await world.skip(timedelta(hours=23))  # 46 h after the first message, 23 h after the last

    assert (await world.state(key)).is_active is True
    assert not world.platform.posts_saying("quiet for")

    await handle.result()
    goodbye = world.platform.posts_in(key)[-1]
    assert "quiet for 24 hours" in goodbye.text
    assert DAY <= goodbye.at - spoke_at < DAY + timedelta(minutes=1)
    assert world.platform.texts(key)[:2] == [
        'Got it (message 1 in this conversation). Say "help" to see what I can do.',
        'Got it (message 2 in this conversation). Say "help" to see what I can do.',
    ]


async def test_messages_do_not_restart_the_idle_timer(world: World) -> None:
    # One timer per quiet period: a turn adds no TIMER_CANCELED / TIMER_STARTED pair to history
    # (two events and two server timer tasks per message; docs/performance.md).
    key = thread_key()
    handle = await world.start_session(key)
    for n in range(5):
        await world.say(key, f"message {n}")

    events = [e async for e in handle.fetch_history_events()]
    names = [EventType.Name(e.event_type) for e in events]
    assert names.count("EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED") == 5
    assert names.count("EVENT_TYPE_TIMER_STARTED") == 1
    assert "EVENT_TYPE_TIMER_CANCELED" not in names
