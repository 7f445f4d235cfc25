"""Multi-workspace install: bolt's OAuth flow with installation and state stores (SQLite or PostgreSQL)."""

from __future__ import annotations

from typing import Any

from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings

from adapters.slack.manifest import BOT_SCOPES
from adapters.storage.backends import Storage

INSTALL_PATH = "/slack/install"
REDIRECT_PATH = "/slack/oauth_redirect"
STATE_EXPIRATION_SECONDS = 600


def installation_store(storage: Storage, client_id: str) -> Any:
    return storage.slack_installation_store(client_id)


def oauth_settings(storage: Storage, client_id: str, client_secret: str, store: Any) -> AsyncOAuthSettings:
    return AsyncOAuthSettings(
        client_id=client_id,
        client_secret=client_secret,
        scopes=BOT_SCOPES,
        installation_store=store,
        state_store=storage.slack_state_store(STATE_EXPIRATION_SECONDS),
        install_path=INSTALL_PATH,
        redirect_uri_path=REDIRECT_PATH,
    )
