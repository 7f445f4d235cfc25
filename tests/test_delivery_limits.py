"""Permanent refusals are INVALID with the reason (4xx), never "unavailable, retry later"."""

from __future__ import annotations

import pytest

from adapters.base import Delivery, notice_for
from adapters.events.common import BadEvent
from adapters.events.starter import EventStarter, Outcome
from adapters.temporal_limits import MAX_BLOB_BYTES, MAX_ID_LENGTH
from bots.config import Settings
from bots.dispatch import Dispatcher
from bots.queued_dispatch import gateway_dispatcher
from workflows.contracts import Actor, ChatMessage, ConversationKey


def _msg(thread: str = "t1", message_id: str = "m1", text: str = "hi") -> ChatMessage:
    return ChatMessage(
        key=ConversationKey(platform="slack", workspace="T1", channel="C1", thread=thread),
        actor=Actor(id="U1", name="u"),
        text=text,
        message_id=message_id,
    )


@pytest.mark.parametrize(
    ("msg", "reason"),
    [
        (_msg(message_id="m" * (MAX_ID_LENGTH + 1)), "message id is 1001 characters; Temporal takes at most 1000"),
        (_msg(thread="9" * MAX_ID_LENGTH), "conversation id is 1012 characters; Temporal takes at most 1000"),
        (_msg(text="x" * MAX_BLOB_BYTES), "Temporal takes at most 2,097,152 (2 MB)"),
    ],
)
async def test_over_temporal_limits_is_refused_with_reason_and_not_queued(client, tmp_path, msg, reason):
    dispatcher = gateway_dispatcher(client, Settings(data_dir=tmp_path, task_queue="tq-limits"))
    await dispatcher.start()
    try:
        result = await dispatcher.deliver(msg)
        assert result.status == Delivery.INVALID and reason in result.detail
        assert (await dispatcher.stats()).depth == 0
        notice = notice_for(result)
        assert notice is not None and notice.private and reason in notice.text
    finally:
        await dispatcher.close()


async def test_temporal_invalid_argument_is_a_refusal_not_an_outage(client):
    """Past the gateway's own check (here: called directly), the real server's INVALID_ARGUMENT is INVALID."""
    dispatcher = Dispatcher(client, "tq-limits", Settings().session_config())
    result = await dispatcher.deliver_once(_msg(message_id="m" * 5000))
    assert result.status == Delivery.INVALID, result


async def test_event_over_the_blob_limit_is_a_bad_event(client):
    starter = EventStarter(client, "tq-limits", ConversationKey(platform="webchat", channel="documents"))
    with pytest.raises(BadEvent, match="Temporal takes at most"):
        await starter.start(Outcome(), "EventNoticeWorkflow", "notice:big", "big", {"text": "x" * MAX_BLOB_BYTES})
    with pytest.raises(BadEvent, match="workflow id is 1001 characters"):
        await starter.start(Outcome(), "EventNoticeWorkflow", "n" * (MAX_ID_LENGTH + 1), "t", {"text": "x"})
