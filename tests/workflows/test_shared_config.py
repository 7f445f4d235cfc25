"""Sessions with equal configurations share one SessionConfig object in a worker (workflows/shared_config.py)."""

from __future__ import annotations

import uuid

import pytest
from pydantic import ValidationError

import workflows.shared_config as shared_config
from tests.workflows.inputs import thread_key
from tests.workflows.world import World
from workflows.contracts import SessionConfig


def test_equal_configs_are_one_object_and_different_ones_are_not() -> None:
    hint = f"hint-{uuid.uuid4().hex}"
    first = shared_config.shared(SessionConfig(upgrade_hint=hint))
    assert shared_config.shared(SessionConfig(upgrade_hint=hint)) is first
    other = shared_config.shared(SessionConfig(upgrade_hint=hint, guest_message_limit=7))
    assert other is not first and other.guest_message_limit == 7


def test_it_keeps_at_most_its_limit() -> None:
    for n in range(shared_config.MAX_CONFIGS + 5):
        shared_config.shared(SessionConfig(upgrade_hint=f"many-{n}"))
    assert len(shared_config._configs) == shared_config.MAX_CONFIGS
    oldest = SessionConfig(upgrade_hint="many-0")
    assert shared_config.shared(oldest) is oldest  # dropped, so this one is kept now


async def test_two_sessions_of_one_deployment_keep_one_config(world: World) -> None:
    hint = f"Ask {uuid.uuid4().hex}."
    first, second = thread_key(), thread_key()
    for key in (first, second):
        await world.start_session(key, upgrade_hint=hint)
        await world.say(key, "hello")
    kept = [config for config in shared_config._configs.values() if config.upgrade_hint == hint]
    assert len(kept) == 1
    # Each session answers with its own config's values all the same.
    assert (await world.state(first)).message_count == (await world.state(second)).message_count == 1


def test_a_shared_config_cannot_be_changed_by_one_session() -> None:
    config = shared_config.shared(SessionConfig(upgrade_hint=f"frozen-{uuid.uuid4().hex}"))
    with pytest.raises(ValidationError, match="frozen"):
        config.guest_message_limit = 99  # type: ignore[misc]
