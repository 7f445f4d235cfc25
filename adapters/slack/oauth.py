"""Multi-workspace install: bolt's OAuth flow with SQLite installation and state stores."""

from __future__ import annotations

from pathlib import Path

from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_sdk.oauth.installation_store.sqlite3 import SQLite3InstallationStore
from slack_sdk.oauth.state_store.sqlite3 import SQLite3OAuthStateStore

from adapters.slack.manifest import BOT_SCOPES

INSTALL_PATH = "/slack/install"
REDIRECT_PATH = "/slack/oauth_redirect"
STATE_EXPIRATION_SECONDS = 600


def installation_store(data_dir: Path, client_id: str) -> SQLite3InstallationStore:
    data_dir.mkdir(parents=True, exist_ok=True)
    return SQLite3InstallationStore(database=str(data_dir / "slack-installations.sqlite3"), client_id=client_id)


def oauth_settings(data_dir: Path, client_id: str, client_secret: str, store: SQLite3InstallationStore) -> AsyncOAuthSettings:
    return AsyncOAuthSettings(
        client_id=client_id,
        client_secret=client_secret,
        scopes=BOT_SCOPES,
        installation_store=store,
        state_store=SQLite3OAuthStateStore(
            database=str(data_dir / "slack-oauth-state.sqlite3"), expiration_seconds=STATE_EXPIRATION_SECONDS
        ),
        install_path=INSTALL_PATH,
        redirect_uri_path=REDIRECT_PATH,
    )
