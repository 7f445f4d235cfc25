"""Mounts the event routes when THREADWORK_EVENTS_TOKEN is set (bots/wiring.py passes what they need)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from aiohttp import web

from adapters.events.routes import EventRoutes
from adapters.events.starter import EventStarter
from adapters.webchat.store import WebChatStore
from workflows.activities.fetchers import SourceSettings
from workflows.activities.fetchers.graph import GraphClient
from workflows.contracts import ConversationKey
from workflows.platform_port import SessionDispatcher
from workflows.platform_traits import PlatformTraits
from workflows.registry import load_registry

#: Microsoft asks for the validation answer and notifications within 5 s.
GRAPH_TIMEOUT = 4.0


@dataclass(frozen=True)
class EventsConfig:
    """What the event routes need from the process's settings (built in bots/wiring.py)."""

    token: str
    #: THREADWORK_EVENTS_CHANNEL: the session id of the conversation events post into.
    channel: str
    sources: SourceSettings
    custom_workflows_file: Path | None = None
    sharepoint_host: str | None = None
    sharepoint_lookback: float = 3600
    #: Operator options per workflow type, as sessions pass them (Settings.child_args()).
    child_args: dict[str, dict[str, Any]] = field(default_factory=dict)
    platform_retry_window: float = 3600.0
    platforms: dict[str, PlatformTraits] = field(default_factory=dict)


async def setup_events(
    config: EventsConfig, webchat_store: WebChatStore
) -> Callable[[web.Application, SessionDispatcher], None]:
    """Prepare the events conversation and answer the gateway mount of the event routes."""
    key = ConversationKey.from_session_id(config.channel)
    if key.platform == "webchat":
        await webchat_store.ensure_channel(key.channel, "Documents and external events")
    registry = load_registry(config.custom_workflows_file)
    graph = GraphClient.from_settings(config.sources, sharepoint_host=config.sharepoint_host)
    graph.timeout = GRAPH_TIMEOUT
    lookback = timedelta(seconds=config.sharepoint_lookback)

    def mount(app: web.Application, dispatcher: SessionDispatcher) -> None:
        # The gateway's dispatcher (bots/dispatch.Dispatcher, or the QueuedDispatcher around it) carries the Temporal client.
        client, task_queue = getattr(dispatcher, "client", None), getattr(dispatcher, "task_queue", None)
        if client is None or task_queue is None:
            raise RuntimeError("the event routes need a dispatcher with a Temporal client and task queue")
        starter = EventStarter(
            client, task_queue, key, config.child_args, config.platform_retry_window, config.platforms
        )
        EventRoutes(config.token, starter, registry, graph, lookback).add_to(app)

    return mount
