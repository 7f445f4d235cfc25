"""The web chat as an Adapter: always on; its store is the conversation log browsers read."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import ClassVar, Literal

from aiohttp import web
from pydantic import Field, model_validator

from adapters.context import AdapterContext
from adapters.settings import AdapterSettings
from adapters.webchat.identity import Identities, load_secret
from adapters.webchat.platform import WebChatPlatform
from adapters.webchat.routes import WebChatRoutes
from adapters.webchat.session_ids import WebChatSessionIds
from adapters.webchat.store import WebChatStore
from adapters.webchat.upload_fetcher import WebChatUploadFetcher
from workflows.activities.fetchers import Fetcher
from workflows.platform_port import ChatPlatform, SessionDispatcher
from workflows.platform_traits import PlatformTraits
from workflows.session_ids import SessionIdCodec

log = logging.getLogger(__name__)


class WebChatSettings(AdapterSettings):
    # Web chat identity (adapters/webchat/identity.py); unset: open for `threadwork dev`, invite otherwise
    webchat_auth: Literal["open", "invite", "proxy"] | None = Field(None, validation_alias="THREADWORK_WEBCHAT_AUTH")
    webchat_proxy_header: str | None = Field(None, validation_alias="THREADWORK_WEBCHAT_PROXY_HEADER")
    webchat_secret: str | None = Field(None, validation_alias="THREADWORK_WEBCHAT_SECRET")
    # Seconds before a stored message no gateway queued (its gateway died in between) is handed over
    webchat_replay_after: float = Field(30.0, gt=0, validation_alias="THREADWORK_WEBCHAT_REPLAY_AFTER")

    @model_validator(mode="after")
    def _proxy_needs_header(self) -> WebChatSettings:
        if self.webchat_auth == "proxy" and not (self.webchat_proxy_header or "").strip():
            raise ValueError(
                "THREADWORK_WEBCHAT_AUTH=proxy needs THREADWORK_WEBCHAT_PROXY_HEADER (e.g. X-Forwarded-Email)"
            )
        return self


def webchat_identities(settings: WebChatSettings, data_dir: Path, secret: bytes | None = None) -> Identities:
    """Who is a web chat member (THREADWORK_WEBCHAT_AUTH); unset outside `threadwork dev` means invite."""
    mode = settings.webchat_auth or "invite"
    if settings.webchat_auth is None:
        log.info(
            "web chat: THREADWORK_WEBCHAT_AUTH is not set; using invite "
            "(members sign in with `threadwork webchat invite NAME`)"
        )
    key = secret or load_secret(data_dir, settings.webchat_secret)
    return Identities(mode, key, settings.webchat_proxy_header)


class WebChatAdapter:
    name: ClassVar[str] = "webchat"
    #: Posts are rows in a local database (local activities); a channel post starts a thread;
    #: no pins and no private messages outside a click's HTTP answer.
    traits: ClassVar[PlatformTraits] = PlatformTraits(
        name="webchat", display_name="the web chat", threads=True, local_delivery=True, private_messages=False
    )
    session_ids: ClassVar[SessionIdCodec] = WebChatSessionIds()
    settings_model: ClassVar[type[AdapterSettings]] = WebChatSettings

    @classmethod
    def enabled(cls, settings: AdapterSettings) -> bool:
        return True

    def __init__(self, settings: AdapterSettings, context: AdapterContext) -> None:
        assert isinstance(settings, WebChatSettings)
        self.settings = settings
        self.context = context
        self.store: WebChatStore = context.storage.webchat_store()
        self._secret: bytes | None = None

    async def start(self) -> ChatPlatform:
        await self.store.open()  # StoreUnavailable: the caller says it in one line
        storage = self.context.storage
        # On PostgreSQL a generated cookie key lives in the database, so gateways on any host agree.
        self._secret = await storage.webchat_secret(self.settings.webchat_secret) if storage.database else None
        return WebChatPlatform(self.store)

    def mount(self, app: web.Application, dispatcher: SessionDispatcher) -> None:
        ctx = self.context
        WebChatRoutes(
            self.store,
            dispatcher,
            ctx.data_dir,
            ctx.document_max_bytes,
            ctx.storage.upload_files(),
            identities=webchat_identities(self.settings, ctx.data_dir, self._secret),
            guest_message_limit=ctx.guest_message_limit,
            replay_after=self.settings.webchat_replay_after,
        ).add_to(app)

    def document_fetchers(self) -> dict[str, Fetcher]:
        """Uploads are read from where the gateway saved them (the data dir or the uploads bucket)."""
        return {"webchat": WebChatUploadFetcher.reading(self.context.storage.upload_files())}

    async def close(self) -> None:
        await self.store.close()
