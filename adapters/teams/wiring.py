"""Builds the Teams adapter's parts from its settings: the ChatPlatform for workers, the route for gateways."""

from __future__ import annotations

from typing import Any

from botbuilder.integration.aiohttp import CloudAdapter

from adapters.teams.auth import StrictAuthentication, credentials_from
from adapters.teams.turn_errors import on_turn_error


def build_adapter(settings: Any) -> CloudAdapter:
    credentials = credentials_from(
        settings.teams_app_id, settings.teams_app_password, settings.teams_app_type, settings.teams_app_tenant_id
    )
    adapter = CloudAdapter(StrictAuthentication(credentials))
    adapter.on_turn_error = on_turn_error  # connector failures are answers, bugs are tracebacks
    return adapter
