"""Mounts the event routes when THREADWORK_EVENTS_TOKEN is set (called from bots/wiring.py)."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from aiohttp import web

from adapters.base import SessionDispatcher
from adapters.events.routes import EventRoutes
from adapters.events.starter import EventStarter
from workflows.activities.fetchers.graph import GraphClient
from workflows.contracts import ConversationKey
from workflows.registry import load_registry

if TYPE_CHECKING:
    from bots.config import Settings
    from bots.wiring import Platforms

#: Microsoft asks for the validation answer and notifications within 5 s.
GRAPH_TIMEOUT = 4.0


async def setup_events(settings: Settings, platforms: Platforms) -> None:
    assert settings.events_token
    token = settings.events_token
    key = ConversationKey.from_session_id(settings.events_channel)
    if key.platform == "webchat":
        await platforms.webchat_store.ensure_channel(key.channel, "Documents and external events")
    registry = load_registry(settings.custom_workflows_file)
    graph = GraphClient.from_settings(settings.document_sources(), sharepoint_host=settings.sharepoint_host)
    graph.timeout = GRAPH_TIMEOUT
    lookback = timedelta(seconds=settings.sharepoint_lookback)

    def mount(app: web.Application, dispatcher: SessionDispatcher) -> None:
        # The gateway's dispatcher (bots/dispatch.Dispatcher, or the QueuedDispatcher around it) carries the Temporal client.
        client, task_queue = getattr(dispatcher, "client", None), getattr(dispatcher, "task_queue", None)
        if client is None or task_queue is None:
            raise RuntimeError("the event routes need a dispatcher with a Temporal client and task queue")
        starter = EventStarter(
            client, task_queue, key, settings.child_args(), settings.platform_retry_window
        )
        EventRoutes(token, starter, registry, graph, lookback).add_to(app)

    platforms.mounts.append(mount)
