"""bolt's installation and OAuth state stores in PostgreSQL, so every gateway and worker sees every install.

Records are bolt's own dicts (``to_dict_for_copying``) as JSON, looked up like
slack_sdk's SQLite store does: the newest row per workspace (and per user) wins.
An enterprise-wide install is keyed by its enterprise alone.
"""

from __future__ import annotations

import json
import logging
import secrets
import time
from datetime import datetime
from typing import Any

from slack_sdk.oauth.installation_store import Bot, Installation
from slack_sdk.oauth.installation_store.async_installation_store import AsyncInstallationStore
from slack_sdk.oauth.state_store.async_state_store import AsyncOAuthStateStore

from adapters.storage.postgres import PostgresDatabase, outages_as_unavailable

log = logging.getLogger(__name__)


def _plain(data: dict[str, Any]) -> dict[str, Any]:
    """JSON-safe: datetimes become epoch seconds, which bolt's models accept back."""
    return json.loads(json.dumps(data, default=lambda v: v.timestamp() if isinstance(v, datetime) else str(v)))


def _keys(enterprise_id: str | None, team_id: str | None, is_enterprise_install: bool | None) -> tuple[str, str]:
    return enterprise_id or "", "" if is_enterprise_install else (team_id or "")


@outages_as_unavailable
class PostgresInstallationStore(AsyncInstallationStore):
    def __init__(self, database: PostgresDatabase, client_id: str) -> None:
        self.database = database
        self.client_id = client_id

    @property
    def logger(self) -> logging.Logger:
        return log

    async def async_save(self, installation: Installation) -> None:
        e_id, t_id = _keys(installation.enterprise_id, installation.team_id, installation.is_enterprise_install)
        await self.database.open()
        await self.database.pool.execute(
            "INSERT INTO slack_installations(client_id, enterprise_id, team_id, user_id, installed_at, data)"
            " VALUES ($1,$2,$3,$4,$5,$6)",
            self.client_id,
            e_id,
            t_id,
            installation.user_id,
            installation.installed_at,
            _plain(installation.to_dict_for_copying()),
        )
        await self.async_save_bot(installation.to_bot())

    async def async_save_bot(self, bot: Bot) -> None:
        e_id, t_id = _keys(bot.enterprise_id, bot.team_id, bot.is_enterprise_install)
        await self.database.open()
        await self.database.pool.execute(
            "INSERT INTO slack_bots(client_id, enterprise_id, team_id, installed_at, data) VALUES ($1,$2,$3,$4,$5)",
            self.client_id,
            e_id,
            t_id,
            bot.installed_at,
            _plain(bot.to_dict_for_copying()),
        )

    async def async_find_bot(
        self, *, enterprise_id: str | None, team_id: str | None, is_enterprise_install: bool | None = False
    ) -> Bot | None:
        e_id, t_id = _keys(enterprise_id, team_id, is_enterprise_install)
        await self.database.open()
        data = await self.database.pool.fetchval(
            "SELECT data FROM slack_bots WHERE client_id = $1 AND enterprise_id = $2 AND team_id = $3"
            " ORDER BY installed_at DESC, n DESC LIMIT 1",
            self.client_id,
            e_id,
            t_id,
        )
        return Bot(**data) if data else None

    async def async_find_installation(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        user_id: str | None = None,
        is_enterprise_install: bool | None = False,
    ) -> Installation | None:
        e_id, t_id = _keys(enterprise_id, team_id, is_enterprise_install)
        await self.database.open()
        query = "SELECT data FROM slack_installations WHERE client_id = $1 AND enterprise_id = $2 AND team_id = $3"
        args: list[Any] = [self.client_id, e_id, t_id]
        if user_id is not None:
            query += " AND user_id = $4"
            args.append(user_id)
        data = await self.database.pool.fetchval(query + " ORDER BY installed_at DESC, n DESC LIMIT 1", *args)
        return Installation(**data) if data else None

    async def async_delete_bot(self, *, enterprise_id: str | None, team_id: str | None) -> None:
        await self.database.pool.execute(
            "DELETE FROM slack_bots WHERE client_id = $1 AND enterprise_id = $2 AND team_id = $3",
            self.client_id,
            enterprise_id or "",
            team_id or "",
        )

    async def async_delete_installation(
        self, *, enterprise_id: str | None, team_id: str | None, user_id: str | None = None
    ) -> None:
        query = "DELETE FROM slack_installations WHERE client_id = $1 AND enterprise_id = $2 AND team_id = $3"
        args: list[Any] = [self.client_id, enterprise_id or "", team_id or ""]
        if user_id is not None:
            query += " AND user_id = $4"
            args.append(user_id)
        await self.database.pool.execute(query, *args)


@outages_as_unavailable
class PostgresOAuthStateStore(AsyncOAuthStateStore):
    """One-time ``state`` values of the OAuth flow; consumed by one DELETE, so a state works once."""

    def __init__(self, database: PostgresDatabase, expiration_seconds: int) -> None:
        self.database = database
        self.expiration_seconds = expiration_seconds

    @property
    def logger(self) -> logging.Logger:
        return log

    async def async_issue(self, *args: Any, **kwargs: Any) -> str:
        state = secrets.token_urlsafe(24)
        await self.database.open()
        await self.database.pool.execute(
            "INSERT INTO slack_oauth_states(state, expire_at) VALUES ($1, $2)",
            state,
            time.time() + self.expiration_seconds,
        )
        return state

    async def async_consume(self, state: str) -> bool:
        await self.database.open()
        found = await self.database.pool.fetchval(
            "DELETE FROM slack_oauth_states WHERE state = $1 RETURNING expire_at", state
        )
        return found is not None and found > time.time()
