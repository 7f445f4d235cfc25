"""The inline path's waiting line: at most as many messages wait for a delivery slot as there are
slots; a message beyond that is queued at once (202) instead of holding its sender for the whole
inline budget only to be queued anyway (fault case 6, a burst of new conversations).

No worker polls the task queue here, so an inline delivery holds its slot for its whole budget.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from pathlib import Path

from temporalio.client import Client

from bots.config import Settings
from bots.dispatch import Dispatcher
from bots.inbound_queue import SQLiteInboundQueue
from bots.queued_dispatch import QueuedDispatcher, QueueOptions
from workflows.contracts import Actor, ChatMessage, ConversationKey
from workflows.platform_port import Delivery

#: The inline budget: long enough that the queued message answers well before the first one's ends.
INLINE_BUDGET = 20.0


async def _until(what: str, check: Callable[[], bool], deadline: float = 30.0) -> None:
    for _ in range(int(deadline / 0.01)):
        if check():
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"gave up waiting for {what} after {deadline:.0f}s")


def _msg(n: int) -> ChatMessage:
    thread = f"line-{uuid.uuid4().hex[:8]}"
    return ChatMessage(
        key=ConversationKey(platform="webchat", channel="general", thread=thread),
        actor=Actor(id="al", name="al"),
        text=f"message {n}",
        message_id=f"{thread}-{n}",
    )


async def test_a_message_beyond_the_waiting_line_is_queued_at_once(client: Client, tmp_path: Path):
    settings = Settings(data_dir=tmp_path)
    inner = Dispatcher(client, f"no-worker-{uuid.uuid4().hex[:8]}", settings.session_config())
    options = QueueOptions(concurrency=1, inline_timeout=INLINE_BUDGET, poll_seconds=3600)
    dispatcher = QueuedDispatcher(inner, SQLiteInboundQueue(tmp_path / "q.sqlite3"), options)
    await dispatcher.queue.open()  # no drainer: what is queued stays queued
    try:
        first = asyncio.create_task(dispatcher.deliver(_msg(1)))  # takes the one slot, waits for Temporal
        await _until("the first message to hold the slot", lambda: dispatcher.slots.busy == 1)
        second = asyncio.create_task(dispatcher.deliver(_msg(2)))  # waits in line for the slot
        await _until("the second message to wait for it", lambda: dispatcher.slots.waiting == 1)
        third = await asyncio.wait_for(dispatcher.deliver(_msg(3)), INLINE_BUDGET / 2)  # the line is full
        assert third.status == Delivery.QUEUED and third.detail == "many messages are waiting; it is next in line"
        assert not first.done() and not second.done()
        assert (await dispatcher.queue.stats()).depth == 3
        for task in (first, second):
            task.cancel()
        await asyncio.gather(first, second, return_exceptions=True)
    finally:
        await dispatcher.queue.close()
