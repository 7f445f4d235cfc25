"""A real threadwork stack for tests: worker + gateway on loopback against the test dev server."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from aiohttp import web
from temporalio.client import Client
from temporalio.service import RPCError
from temporalio.worker import Worker

from adapters.webchat.invites import Invites
from bots.config import Settings
from bots.dispatch import Dispatcher
from bots.gateway import build_app
from bots.ports import free_port
from bots.queued_dispatch import gateway_dispatcher
from bots.runner import worker_options
from bots.temporal import connect
from bots.wiring import Platforms, build_platforms
from workflows.worker import build_worker


@dataclass
class Stack:
    settings: Settings
    client: Client
    platforms: Platforms
    worker: Worker
    base_url: str
    #: An anonymous client (no identity cookie yet): a guest unless the mode is open.
    http: httpx.AsyncClient
    _users: dict[str, httpx.AsyncClient] = field(default_factory=dict)

    @property
    def store(self):
        return self.platforms.webchat_store

    async def user(self, name: str) -> httpx.AsyncClient:
        """``name``'s own browser (cookie jar). In invite mode it signs in as the member ``name``
        through a one-time link, so its Actor.id is ``name``; in open mode its id is opaque."""
        if name not in self._users:
            http = self._users[name] = httpx.AsyncClient(base_url=self.base_url, timeout=30)
            if self.settings.webchat_auth == "invite":
                invite = await Invites(self.store).create(name)
                resp = await http.post("/webchat/api/signin", json={"token": invite.token})
                assert resp.status_code == 200, resp.text
        return self._users[name]

    async def say(
        self, text: str, *, channel: str = "general", thread: str | None = None, user: str = "alice", **extra: Any
    ) -> dict:
        http = await self.user(user)
        resp = await http.post(
            "/webchat/api/messages", json={"channel": channel, "thread": thread, "user": user, "text": text, **extra}
        )
        assert resp.status_code == 202, resp.text
        return resp.json()

    async def click(self, message: dict, action_id: str, user: str, value: str = "") -> httpx.Response:
        """``user`` clicks a button of a stored web chat message (the raw answer)."""
        http = await self.user(user)
        return await http.post(
            "/webchat/api/actions",
            json={
                "channel": message["channel"],
                "thread": message["thread"],
                "message_id": message["id"],
                "action_id": action_id,
                "value": value,
                "user": user,
            },
        )

    async def close_users(self) -> None:
        for http in self._users.values():
            await http.aclose()

    async def bot_messages(self, thread: str, channel: str = "general", *, streaming: bool = False) -> list[dict]:
        """The thread's finished bot messages (``streaming``: also replies still being streamed)."""
        msgs = [m for m in await self.store.messages(channel, thread) if m["is_bot"]]
        return msgs if streaming else [m for m in msgs if not is_streaming(m)]

    async def wait_bot_messages(
        self, thread: str, count: int, channel: str = "general", timeout: float = 60
    ) -> list[dict]:
        """Wait until the thread has at least ``count`` finished bot messages and its session has recorded
        them (a streamed reply is final in the store just before its turn ends); fail with what is there.

        The messages are read again once the session settled: a turn may still edit its message (the
        tool loop adds a refused call's note to the text the model streamed)."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            msgs = await self.bot_messages(thread, channel)
            if len(msgs) >= count:
                await self.settled(f"webchat:{channel}:{thread}", deadline)
                return await self.bot_messages(thread, channel)
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"expected {count} bot messages in {thread}, got {[m['text'] for m in msgs]}")
            await asyncio.sleep(0.05)

    async def settled(self, session_id: str, deadline: float) -> None:
        """Until the session has no activity and no workflow task pending (bounded by ``deadline``)."""
        while asyncio.get_running_loop().time() < deadline:
            try:
                raw = (await self.client.get_workflow_handle(session_id).describe()).raw_description
            except RPCError:
                return  # no such session (a thread a child posts into)
            if not raw.pending_activities and not raw.HasField("pending_workflow_task"):
                return
            await asyncio.sleep(0.02)

    async def state(self, session_id: str) -> dict:
        from workflows.chat_session import ChatSessionWorkflow

        state = await self.client.get_workflow_handle(session_id).query(ChatSessionWorkflow.get_session_state)
        return state.model_dump(mode="json")


def is_streaming(message: dict) -> bool:
    """A web chat reply still being streamed (adapters/webchat/stream.py marks it with a ``stream`` block)."""
    return any(b.get("type") == "stream" for b in message.get("blocks") or [])


@contextlib.asynccontextmanager
async def running_stack(client: Client, data_dir: Path, **overrides: Any) -> AsyncIterator[Stack]:
    """Worker and gateway on a unique task queue, web chat data under ``data_dir``.

    The web chat runs in invite mode: each test user signs in as a member (Stack.user).
    """
    settings = Settings(
        **{
            "data_dir": data_dir,
            "webchat_auth": "invite",
            "host": "127.0.0.1",
            "port": free_port(),
            "task_queue": f"tq-{uuid.uuid4().hex[:8]}",
            **overrides,  # a restart test passes the task_queue of the stack it replaces
        }
    )
    # Connect the way the processes do (our Runtime with Prometheus metrics, pydantic data).
    client = await connect(client.service_client.config.target_host, client.namespace)
    platforms = await build_platforms(settings)
    platforms.use_dispatcher(Dispatcher(client, settings.task_queue, settings.session_config()))
    worker = build_worker(client, platforms.registry, worker_options(settings))
    runner = web.AppRunner(build_app(client, gateway_dispatcher(client, settings), platforms))
    await runner.setup()
    await web.TCPSite(runner, settings.host, settings.port).start()
    base_url = f"http://{settings.host}:{settings.port}"
    async with worker, httpx.AsyncClient(base_url=base_url, timeout=30) as http:
        stack = Stack(settings, client, platforms, worker, base_url, http)
        try:
            yield stack
        finally:
            await stack.close_users()
            await runner.cleanup()
    await platforms.close()
