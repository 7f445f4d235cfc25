"""A web chat message is stored with its hand-over, in one transaction; the hand-over is cleared once the
inbound queue has the message, and what a dead gateway left is handed over by another one
(adapters/webchat/handover.py; the gateway-killed case is tests/faults/test_webchat_gateway_killed.py).

The store tests run on both backends: the SQLite file (one host) and PostgreSQL (many hosts).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from temporalio.client import Client

from adapters.storage.postgres import PostgresDatabase
from adapters.webchat.store import WebChatStore
from adapters.webchat.store_postgres import PostgresWebChatStore
from adapters.webchat.store_sqlite import SqliteWebChatStore
from tests.support.postgres import PostgresServer
from tests.support.stack import running_stack
from workflows.contracts import Actor, ChatMessage, ConversationKey

BOUND = 60.0
#: ``Gateways(n)``: n gateway processes' stores on one shared database.
Gateways = Callable[[int], contextlib.AbstractAsyncContextManager[list[WebChatStore]]]


@pytest.fixture(params=["sqlite", "postgresql"])
def gateways(request: pytest.FixtureRequest, tmp_path: Path) -> Gateways:
    @contextlib.asynccontextmanager
    async def open_gateways(n: int) -> AsyncIterator[list[WebChatStore]]:
        databases: list[PostgresDatabase] = []
        stores: list[WebChatStore] = []
        if request.param == "sqlite":
            stores = [SqliteWebChatStore(tmp_path / "webchat.sqlite3") for _ in range(n)]
        else:
            server: PostgresServer = request.getfixturevalue("postgres_server")
            url = server.create_database()
            databases = [PostgresDatabase(url) for _ in range(n)]
            stores = [PostgresWebChatStore(db) for db in databases]
        try:
            for store in stores:
                await store.open()
            yield stores
        finally:
            for store in stores:
                await store.close()
            for db in databases:
                await db.close()

    return open_gateways


def _msg(message_id: str) -> ChatMessage:
    return ChatMessage(
        key=ConversationKey(platform="webchat", channel="general", thread=message_id),
        actor=Actor(id="al", name="al"),
        text=f"text of {message_id}",
        message_id=message_id,
    )


async def _store(store: WebChatStore, message_id: str) -> None:
    msg = _msg(message_id)
    await store.add_message(
        channel="general", thread=None, user="al", text=msg.text, message_id=message_id, handover=msg.model_dump_json()
    )


async def test_a_hand_over_is_kept_with_its_message_until_cleared(gateways: Gateways):
    async with gateways(1) as (store,):
        await _store(store, "m1")
        await store.add_message(channel="general", thread="m1", user="threadwork", text="a bot post", is_bot=True)
        assert await store.take_unhanded(60, 10) == []  # too fresh: its gateway may still be queueing it
        (left,) = await store.take_unhanded(0, 10)
        assert (left.message_id, left.replays) == ("m1", 1)
        assert ChatMessage.model_validate_json(left.body) == _msg("m1")
        assert await store.take_unhanded(30, 10) == []  # taken: not again before `older_than` passed once more
        await asyncio.sleep(0.01)
        (again,) = await store.take_unhanded(0, 10)
        assert again.replays == 2
        await store.handed_over("m1")
        assert await store.take_unhanded(0, 10) == []
        assert [m["text"] for m in await store.messages("general", "m1")] == ["text of m1", "a bot post"]


async def test_a_resent_message_id_keeps_one_hand_over(gateways: Gateways):
    async with gateways(1) as (store,):
        await _store(store, "m1")
        await _store(store, "m1")  # the same id stored again (a race of two requests): one message, one hand-over
        assert len(await store.take_unhanded(0, 10)) == 1
        assert len(await store.messages("general", "m1")) == 1


async def test_gateways_taking_at_once_never_take_the_same_message(gateways: Gateways):
    async with gateways(4) as stores:
        for n in range(40):
            await _store(stores[0], f"m{n}")
        await asyncio.sleep(2.1)
        # Due after 2 s: a message one gateway just took is not due again for another 2 s.
        taken = await asyncio.gather(*(s.take_unhanded(2, 15) for s in stores))
        ids = [h.message_id for batch in taken for h in batch]
        assert sorted(ids) == sorted(f"m{n}" for n in range(40))  # each once, by one gateway


async def test_the_gateway_hands_over_what_another_stored_and_clears_what_it_queued(client: Client, tmp_path: Path):
    async with running_stack(client, tmp_path, webchat_auth="open", webchat_replay_after=0.5) as stack:
        sent = await stack.say("a message through the route")
        await stack.wait_bot_messages(sent["thread"], 1, timeout=BOUND)
        assert await stack.store.take_unhanded(0, 10) == []  # queued and taken: its hand-over is gone

        # A gateway that died after storing this one, before its queue had it:
        await _store(stack.store, "left-by-a-dead-gateway")
        answers = await stack.wait_bot_messages("left-by-a-dead-gateway", 1, timeout=BOUND)
        assert "Got it (message 1" in answers[0]["text"]
        await asyncio.sleep(1.5)  # three more rounds: a second hand-over would have been answered by now
        assert len(await stack.bot_messages("left-by-a-dead-gateway")) == 1
        assert await stack.store.take_unhanded(0, 10) == []
