"""Guests get THREADWORK_GUEST_MESSAGE_LIMIT answered messages per conversation; members have no limit."""

from __future__ import annotations

from tests.workflows.inputs import actor, thread_key
from tests.workflows.world import World


async def test_guest_over_the_limit_is_told_once_per_message_and_not_counted(world: World) -> None:
    key = thread_key()
    await world.start_session(key, guest_message_limit=2, upgrade_hint="Ask an admin.")
    gus = actor("gus", guest=True)

    for text in ("one", "two", "three", "four"):
        await world.say(key, text, by=gus)

    texts = world.platform.texts(key)
    assert texts[:2] == [
        'Got it (message 1 in this conversation). Say "help" to see what I can do.',
        'Got it (message 2 in this conversation). Say "help" to see what I can do.',
    ]
    limit = (
        "You've reached the guest limit of 2 messages in this conversation, "
        "so I won't process more messages from you here. Ask an admin."
    )
    assert texts[2:] == [limit, limit]
    state = await world.state(key)
    assert state.message_count == 2
    assert state.participants["gus"].message_count == 2
    assert [h.text for h in state.history if h.role == "user"] == ["one", "two"]


async def test_limit_is_per_guest_and_ends_when_the_guest_becomes_a_member(world: World) -> None:
    key = thread_key()
    await world.start_session(key, guest_message_limit=1)
    await world.say(key, "hi", by=actor("gus", guest=True))
    await world.say(key, "hi again", by=actor("gus", guest=True))
    await world.say(key, "me too", by=actor("gia", guest=True))  # another guest has her own allowance
    await world.say(key, "now I'm a member", by=actor("gus"))

    texts = world.platform.texts(key)
    assert texts[1].startswith("You've reached the guest limit of 1 messages")
    assert texts[2] == 'Got it (message 2 in this conversation). Say "help" to see what I can do.'
    assert texts[3] == 'Got it (message 3 in this conversation). Say "help" to see what I can do.'
    state = await world.state(key)
    assert state.message_count == 3
    assert state.participants["gus"].is_guest is False
    assert state.participants["gus"].message_count == 2
