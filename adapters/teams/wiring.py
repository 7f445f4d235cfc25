"""setup_teams: the Teams adapter for the gateway (route) and the worker (ChatPlatform)."""

from __future__ import annotations

import logging

from botbuilder.integration.aiohttp import CloudAdapter

from adapters.teams.auth import StrictAuthentication, credentials_from
from adapters.teams.bot import ThreadworkTeamsBot
from adapters.teams.platform import TeamsPlatform
from adapters.teams.routes import TeamsRoutes
from adapters.teams.turn_errors import on_turn_error

log = logging.getLogger(__name__)


def build_adapter(settings) -> CloudAdapter:
    credentials = credentials_from(
        settings.teams_app_id, settings.teams_app_password, settings.teams_app_type, settings.teams_app_tenant_id
    )
    adapter = CloudAdapter(StrictAuthentication(credentials))
    adapter.on_turn_error = on_turn_error  # connector failures are answers, bugs are tracebacks
    return adapter


async def setup_teams(settings, platforms) -> None:
    adapter = build_adapter(settings)
    auth_required = bool(settings.teams_app_id)
    if not auth_required:
        log.warning(
            "TEAMS_APP_ID is not set: /api/messages accepts ANONYMOUS requests without a Bot Framework "
            "token (for local development with the Bot Framework Emulator only). Set TEAMS_APP_ID and "
            "TEAMS_APP_PASSWORD before exposing this gateway."
        )
    posted = platforms.storage.posted_log("teams")
    await posted.open()
    platforms.closers.append(posted.close)
    platform = TeamsPlatform(
        adapter,
        posted=posted,
        app_id=settings.teams_app_id,
        service_url=settings.teams_service_url,
        incident_channel_id=settings.teams_incident_channel_id,
    )
    platforms.registry.register(platform)
    platforms.dispatcher_users.append(lambda dispatcher: platform.use_dispatcher(dispatcher.stop_turn))
    platforms.mounts.append(
        lambda app, dispatcher: TeamsRoutes(adapter, ThreadworkTeamsBot(dispatcher, platform), auth_required=auth_required).add_to(app)
    )
