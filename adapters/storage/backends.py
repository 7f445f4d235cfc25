"""The stores of one process, on the backend its settings name: the data dir, or PostgreSQL and S3.

Adapters ask this object for their store and never learn which backend it is. One
PostgreSQL pool serves every store of the process; ``close`` releases it.
(A future store, e.g. a durable inbound queue, adds one method here and one table
in a new migration.)
"""

from __future__ import annotations

import secrets
import time
from pathlib import Path
from typing import Any

from adapters.posted_log import PostedLog, SqlitePostedLog
from adapters.storage.postgres import PostgresDatabase
from adapters.storage.uploads import UploadFiles, upload_files
from adapters.webchat.store import WebChatStore


class Storage:
    def __init__(
        self,
        data_dir: Path,
        database_url: str | None = None,
        uploads_url: str | None = None,
        aws_endpoint_url: str | None = None,
    ) -> None:
        self.data_dir = data_dir
        self.database = PostgresDatabase(database_url) if database_url else None
        self.uploads_url = uploads_url
        self.aws_endpoint_url = aws_endpoint_url

    @classmethod
    def from_settings(cls, settings: Any) -> Storage:
        return cls(settings.data_dir, settings.database_url, settings.uploads_url, settings.aws_endpoint_url)

    @property
    def backend(self) -> str:
        return "postgresql" if self.database else "sqlite"

    def webchat_store(self) -> WebChatStore:
        if self.database is not None:
            from adapters.webchat.store_postgres import PostgresWebChatStore

            return PostgresWebChatStore(self.database)
        from adapters.webchat.store_sqlite import SqliteWebChatStore

        return SqliteWebChatStore(self.data_dir / "webchat.sqlite3")

    def posted_log(self, platform: str) -> PostedLog:
        """The exactly-once record of ``platform`` ("slack", "teams")."""
        if self.database is not None:
            from adapters.posted_log_postgres import PostgresPostedLog

            return PostgresPostedLog(self.database, platform)
        return SqlitePostedLog(self.data_dir / f"{platform}-posted.sqlite3")

    def slack_received_journal(self) -> Any:
        """Slack events acknowledged but not yet queued (adapters/slack/received_journal.py)."""
        if self.database is not None:
            from adapters.slack.received_journal_postgres import PostgresReceivedJournal

            return PostgresReceivedJournal(self.database)
        from adapters.slack.received_journal import SqliteReceivedJournal

        return SqliteReceivedJournal(self.data_dir / "slack-received.sqlite3")

    def slack_installation_store(self, client_id: str) -> Any:
        if self.database is not None:
            from adapters.slack.oauth_postgres import PostgresInstallationStore

            return PostgresInstallationStore(self.database, client_id)
        from slack_sdk.oauth.installation_store.sqlite3 import SQLite3InstallationStore

        self.data_dir.mkdir(parents=True, exist_ok=True)
        return SQLite3InstallationStore(
            database=str(self.data_dir / "slack-installations.sqlite3"), client_id=client_id
        )

    def slack_state_store(self, expiration_seconds: int) -> Any:
        if self.database is not None:
            from adapters.slack.oauth_postgres import PostgresOAuthStateStore

            return PostgresOAuthStateStore(self.database, expiration_seconds)
        from slack_sdk.oauth.state_store.sqlite3 import SQLite3OAuthStateStore

        self.data_dir.mkdir(parents=True, exist_ok=True)
        return SQLite3OAuthStateStore(
            database=str(self.data_dir / "slack-oauth-state.sqlite3"), expiration_seconds=expiration_seconds
        )

    async def webchat_secret(self, configured: str | None) -> bytes:
        """The web chat cookie key: the configured one; else generated once, in the data dir or the database."""
        if configured or self.database is None:
            from adapters.webchat.identity import load_secret

            return load_secret(self.data_dir, configured)
        await self.database.open()
        pool = self.database.pool
        await pool.execute(  # the first gateway's key wins; the SELECT (a new snapshot) sees the winner
            "INSERT INTO webchat_secrets(name, value, created_at) VALUES ('cookie', $1, $2) ON CONFLICT (name) DO NOTHING",
            secrets.token_urlsafe(48),
            time.time(),
        )
        return (await pool.fetchval("SELECT value FROM webchat_secrets WHERE name = 'cookie'")).encode()

    def upload_files(self) -> UploadFiles:
        return upload_files(self.data_dir, self.uploads_url, self.aws_endpoint_url)

    async def close(self) -> None:
        if self.database is not None:
            await self.database.close()
