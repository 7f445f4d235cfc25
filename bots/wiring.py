"""Which platforms this process serves, built from settings (shared by gateway and worker)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from adapters.base import PlatformRegistry, SessionDispatcher
from adapters.storage import StoreUnavailable
from adapters.storage.backends import Storage
from adapters.webchat.identity import Identities, load_secret
from adapters.webchat.platform import WebChatPlatform
from adapters.webchat.routes import WebChatRoutes
from adapters.webchat.store import WebChatStore
from bots.config import Settings
from bots.errors import StartupError

log = logging.getLogger(__name__)


@dataclass
class Platforms:
    registry: PlatformRegistry
    webchat_store: WebChatStore
    #: Where this process's stores live (data dir, or PostgreSQL and S3); adapters ask it for theirs.
    storage: Storage
    #: Each adapter's routes for the gateway (called with the app and the dispatcher).
    mounts: list[Callable[[web.Application, SessionDispatcher], None]] = field(default_factory=list)
    closers: list[Callable[[], Awaitable[Any]]] = field(default_factory=list)

    async def close(self) -> None:
        for close in reversed(self.closers):
            await close()


async def build_platforms(settings: Settings) -> Platforms:
    registry = PlatformRegistry()
    storage = Storage.from_settings(settings)
    store = storage.webchat_store()
    try:
        await store.open()
    except StoreUnavailable as err:  # THREADWORK_DATABASE_URL unreachable or refused: one line for the operator
        await storage.close()
        raise StartupError(f"{err}; check the address, the credentials and that PostgreSQL runs") from None
    except BaseException:
        await storage.close()
        raise
    registry.register(WebChatPlatform(store))
    platforms = Platforms(registry=registry, webchat_store=store, storage=storage, closers=[storage.close, store.close])
    # On PostgreSQL a generated cookie key lives in the database, so gateways on any host agree.
    secret = await storage.webchat_secret(settings.webchat_secret) if storage.database else None
    platforms.mounts.append(lambda app, dispatcher: _webchat_routes(settings, storage, store, dispatcher, secret).add_to(app))
    if settings.slack_enabled:
        from adapters.slack.wiring import setup_slack

        await setup_slack(settings, platforms)
    if settings.teams_enabled or settings.teams_app_id:
        from adapters.teams.wiring import setup_teams

        await setup_teams(settings, platforms)
    # ---- external event routes (adapters/events): only with THREADWORK_EVENTS_TOKEN ----
    if settings.events_token:
        from adapters.events.wiring import setup_events

        await setup_events(settings, platforms)
    return platforms


def webchat_identities(settings: Settings, secret: bytes | None = None) -> Identities:
    """Who is a web chat member (THREADWORK_WEBCHAT_AUTH); unset outside `threadwork dev` means invite."""
    mode = settings.webchat_auth or "invite"
    if settings.webchat_auth is None:
        log.info("web chat: THREADWORK_WEBCHAT_AUTH is not set; using invite (members sign in with `threadwork webchat invite NAME`)")
    return Identities(mode, secret or load_secret(settings.data_dir, settings.webchat_secret), settings.webchat_proxy_header)


def _webchat_routes(
    settings: Settings, storage: Storage, store: WebChatStore, dispatcher: SessionDispatcher, secret: bytes | None
) -> WebChatRoutes:
    return WebChatRoutes(
        store, dispatcher, settings.data_dir, settings.document_max_bytes, storage.upload_files(),
        identities=webchat_identities(settings, secret), guest_message_limit=settings.guest_message_limit,
    )
