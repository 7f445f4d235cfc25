"""Teams as an Adapter: enabled by TEAMS_ENABLED or TEAMS_APP_ID (Bot Framework, /api/messages)."""

from __future__ import annotations

import logging
from typing import Any, ClassVar

from aiohttp import web
from pydantic import Field

from adapters.context import AdapterContext
from adapters.posted_log import PostedLog
from adapters.settings import AdapterSettings, missing
from adapters.teams.session_ids import TeamsSessionIds
from workflows.activities.fetchers import Fetcher
from workflows.platform_port import ChatPlatform, SessionDispatcher
from workflows.platform_traits import PlatformTraits
from workflows.session_ids import SessionIdCodec

log = logging.getLogger(__name__)


class TeamsSettings(AdapterSettings):
    teams_enabled: bool = Field(False, validation_alias="TEAMS_ENABLED")
    teams_app_id: str | None = Field(None, validation_alias="TEAMS_APP_ID")
    teams_app_password: str | None = Field(None, validation_alias="TEAMS_APP_PASSWORD")
    teams_app_type: str = Field("MultiTenant", validation_alias="TEAMS_APP_TYPE")
    teams_app_tenant_id: str | None = Field(None, validation_alias="TEAMS_APP_TENANT_ID")
    teams_incident_channel_id: str | None = Field(None, validation_alias="TEAMS_INCIDENT_CHANNEL_ID")
    #: Where posts go when no conversation reference names one (new incident threads, 1:1 chats).
    teams_service_url: str = Field("https://smba.trafficmanager.net/teams/", validation_alias="TEAMS_SERVICE_URL")

    def startup_problem(self) -> str | None:
        from adapters.teams.auth import APP_TYPES

        app_type = APP_TYPES.get((self.teams_app_type or "MultiTenant").lower())
        if app_type is None:
            return f"TEAMS_APP_TYPE={self.teams_app_type!r} is not one of {', '.join(APP_TYPES.values())}"
        if self.teams_app_password and not self.teams_app_id:
            return missing("TEAMS_APP_PASSWORD", "TEAMS_APP_ID", "the password belongs to an app id")
        if not self.teams_app_id:
            return None
        if app_type in ("MultiTenant", "SingleTenant") and not self.teams_app_password:
            return missing("TEAMS_APP_ID", "TEAMS_APP_PASSWORD", f"a {app_type} bot signs in with its client secret")
        if app_type in ("SingleTenant", "UserAssignedMSI") and not self.teams_app_tenant_id:
            return f"TEAMS_APP_TYPE={app_type} needs TEAMS_APP_TENANT_ID: set it to the app's tenant id"
        return None


class TeamsAdapter:
    name: ClassVar[str] = "teams"
    #: Replies go into the conversation itself (no thread under a bot post), no pins, private = a 1:1 chat.
    traits: ClassVar[PlatformTraits] = PlatformTraits(name="teams", display_name="Teams")
    session_ids: ClassVar[SessionIdCodec] = TeamsSessionIds()
    settings_model: ClassVar[type[AdapterSettings]] = TeamsSettings

    @classmethod
    def enabled(cls, settings: AdapterSettings) -> bool:
        return isinstance(settings, TeamsSettings) and bool(settings.teams_enabled or settings.teams_app_id)

    def __init__(self, settings: AdapterSettings, context: AdapterContext) -> None:
        assert isinstance(settings, TeamsSettings)
        self.settings = settings
        self.context = context
        self._posted: PostedLog | None = None
        self._cloud: Any = None
        self._platform: Any = None

    async def start(self) -> ChatPlatform:
        from adapters.teams.platform import TeamsPlatform
        from adapters.teams.wiring import build_adapter

        s = self.settings
        self._cloud = build_adapter(s)
        self._posted = self.context.storage.posted_log("teams")
        await self._posted.open()
        self._platform = TeamsPlatform(
            self._cloud,
            posted=self._posted,
            app_id=s.teams_app_id,
            service_url=s.teams_service_url,
            incident_channel_id=s.teams_incident_channel_id,
        )
        return self._platform

    def mount(self, app: web.Application, dispatcher: SessionDispatcher) -> None:
        from adapters.teams.bot import ThreadworkTeamsBot
        from adapters.teams.routes import TeamsRoutes

        auth_required = bool(self.settings.teams_app_id)
        if not auth_required:
            log.warning(
                "TEAMS_APP_ID is not set: /api/messages accepts ANONYMOUS requests without a Bot Framework "
                "token (for local development with the Bot Framework Emulator only). Set TEAMS_APP_ID and "
                "TEAMS_APP_PASSWORD before exposing this gateway."
            )
        bot = ThreadworkTeamsBot(dispatcher, self._platform)
        TeamsRoutes(self._cloud, bot, auth_required=auth_required, service_url=self.settings.teams_service_url).add_to(
            app
        )

    def use_dispatcher(self, dispatcher: SessionDispatcher) -> None:
        """A Stop pressed on a streamed reply reaches the worker's stream (a 403), which stops the turn."""
        self._platform.use_dispatcher(dispatcher.stop_turn)

    def document_fetchers(self) -> dict[str, Fetcher]:
        """Teams file-consent downloads are pre-authorized URLs: a plain HTTP GET."""
        from workflows.activities.fetchers.http import HttpFetcher

        return {"teams": HttpFetcher()}

    async def close(self) -> None:
        if self._cloud is not None:
            await self._cloud.bot_framework_authentication.close()
        if self._posted is not None:
            await self._posted.close()
