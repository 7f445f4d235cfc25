"""Which platforms this process serves, built from settings (shared by gateway and worker).

Every adapter in bots/adapters.py (and THREADWORK_ADAPTERS) whose settings enable it is
started: its ChatPlatform goes into the registry the worker's activities use, its routes
into the gateway (``mounts``), its ``close`` into ``closers``.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, cast

from aiohttp import web

from adapters.context import AdapterContext
from adapters.storage import StoreUnavailable
from adapters.storage.backends import Storage
from adapters.webchat.adapter import WebChatAdapter, WebChatSettings
from adapters.webchat.adapter import webchat_identities as _webchat_identities
from adapters.webchat.identity import Identities
from adapters.webchat.store import WebChatStore
from bots.adapter import Adapter, DispatchingAdapter, FileAdapter
from bots.adapters import adapter_classes, adapter_settings
from bots.config import Settings
from bots.errors import StartupError
from workflows.platform_port import PlatformRegistry, SessionDispatcher

log = logging.getLogger(__name__)


@dataclass
class Platforms:
    registry: PlatformRegistry
    #: Where this process's stores live (data dir, or PostgreSQL and S3); adapters ask it for theirs.
    storage: Storage
    #: The started adapters by platform name.
    adapters: dict[str, Adapter] = field(default_factory=dict)
    #: Each adapter's routes for the gateway (called with the app and the dispatcher).
    mounts: list[Callable[[web.Application, SessionDispatcher], None]] = field(default_factory=list)
    closers: list[Callable[[], Awaitable[Any]]] = field(default_factory=list)

    def use_dispatcher(self, dispatcher: SessionDispatcher) -> None:
        """A worker's dispatcher, for adapters whose platform reaches sessions from activities
        (bots/adapter.py DispatchingAdapter: a Stop Teams reports to a streaming activity)."""
        for adapter in self.adapters.values():
            if hasattr(adapter, "use_dispatcher"):
                cast(DispatchingAdapter, adapter).use_dispatcher(dispatcher)

    @property
    def webchat_store(self) -> WebChatStore:
        webchat = self.adapters["webchat"]
        assert isinstance(webchat, WebChatAdapter)
        return webchat.store

    async def close(self) -> None:
        for close in reversed(self.closers):
            await close()


async def build_platforms(settings: Settings) -> Platforms:
    storage = Storage.from_settings(settings)
    platforms = Platforms(registry=PlatformRegistry(), storage=storage, closers=[storage.close])
    context = AdapterContext(
        storage=storage,
        data_dir=settings.data_dir,
        document_max_bytes=settings.document_max_bytes,
        guest_message_limit=settings.guest_message_limit,
        custom_workflows_file=settings.custom_workflows_file,
    )
    try:
        for cls in adapter_classes(settings.adapters):
            await _start(cls, settings, context, platforms)
        if settings.events_token:  # external event routes (adapters/events): only with THREADWORK_EVENTS_TOKEN
            from adapters.events.wiring import setup_events

            platforms.mounts.append(await setup_events(events_config(settings, platforms), platforms.webchat_store))
    except BaseException:
        await platforms.close()
        raise
    return platforms


async def _start(cls: type[Adapter], settings: Settings, context: AdapterContext, platforms: Platforms) -> None:
    own = adapter_settings(cls, settings)
    if not cls.enabled(own):
        return
    adapter = cls(own, context)
    try:
        platform = await adapter.start()
    except StoreUnavailable as err:  # THREADWORK_DATABASE_URL unreachable or refused: one line for the operator
        raise StartupError(f"{err}; check the address, the credentials and that PostgreSQL runs") from None
    platforms.closers.append(adapter.close)
    if platform.name != cls.name:
        raise StartupError(f"adapter {cls.name!r} started a platform named {platform.name!r}")
    # Optional: an adapter whose messages carry files hands the worker its fetchers (bots/adapter.py FileAdapter).
    fetchers = cast(FileAdapter, adapter).document_fetchers() if hasattr(adapter, "document_fetchers") else None
    platforms.registry.register(platform, cls.traits, fetchers)
    platforms.adapters[cls.name] = adapter
    platforms.mounts.append(adapter.mount)


def events_config(settings: Settings, platforms: Platforms) -> Any:
    from adapters.events.wiring import EventsConfig

    assert settings.events_token
    return EventsConfig(
        token=settings.events_token,
        channel=settings.events_channel,
        sources=settings.document_sources(),
        custom_workflows_file=settings.custom_workflows_file,
        sharepoint_host=settings.sharepoint_host,
        sharepoint_lookback=settings.sharepoint_lookback,
        child_args=settings.child_args(),
        platform_retry_window=settings.platform_retry_window,
        platforms=settings.platform_traits(),
    )


def webchat_identities(settings: Settings, secret: bytes | None = None) -> Identities:
    """Who is a web chat member (THREADWORK_WEBCHAT_AUTH); unset outside `threadwork dev` means invite."""
    own = adapter_settings(WebChatAdapter, settings)
    assert isinstance(own, WebChatSettings)
    return _webchat_identities(own, settings.data_dir, secret)
