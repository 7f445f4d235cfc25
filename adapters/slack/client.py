"""Slack Web API clients: one AsyncWebClient per bot token, with slack_sdk's retry handlers.

429s wait for Retry-After (AsyncRateLimitErrorRetryHandler) and dropped connections are
retried (AsyncConnectionErrorRetryHandler); what still fails becomes a PlatformError whose
``retryable`` flag tells the Temporal activity retry policy whether to try again. 5xx answers
are left to that policy: Slack may have acted (conversations.create) before failing.
"""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
)
from slack_sdk.oauth.installation_store.async_installation_store import AsyncInstallationStore
from slack_sdk.web.async_client import AsyncWebClient

from adapters.base import PlatformError, retry_after

RATE_LIMIT_RETRIES = 3
CONNECTION_RETRIES = 2
TIMEOUT_SECONDS = 20

#: Slack error codes that a later retry can fix; everything else is final.
RETRYABLE_ERRORS = {
    "ratelimited",
    "rate_limited",
    "service_unavailable",
    "fatal_error",
    "internal_error",
    "request_timeout",
}


def make_client(
    base_url: str, token: str | None = None, session: aiohttp.ClientSession | None = None
) -> AsyncWebClient:
    return AsyncWebClient(
        token=token,
        base_url=base_url if base_url.endswith("/") else base_url + "/",
        timeout=TIMEOUT_SECONDS,
        session=session,
        retry_handlers=[
            AsyncConnectionErrorRetryHandler(max_retry_count=CONNECTION_RETRIES),
            AsyncRateLimitErrorRetryHandler(max_retry_count=RATE_LIMIT_RETRIES),
        ],
    )


def platform_error(method: str, err: Exception) -> PlatformError:
    """A Slack failure as the neutral PlatformError (retryable when waiting may help)."""
    if isinstance(err, SlackApiError):
        status = err.response.status_code
        code = err.response.get("error", "") if isinstance(err.response.data, dict) else ""
        retryable = status == 429 or status >= 500 or code in RETRYABLE_ERRORS
        return PlatformError(
            f"Slack {method} failed: {code or f'HTTP {status}'}",
            retryable=retryable,
            retry_after=retry_after(err.response.headers),
        )
    if isinstance(err, (SlackClientError, OSError, TimeoutError)):
        return PlatformError(f"Slack {method} failed: {err}", retryable=True)
    return PlatformError(f"Slack {method} failed: {err!r}", retryable=True)


class SlackClients:
    """The bot token of a workspace: the installation store's (OAuth), else SLACK_BOT_TOKEN."""

    def __init__(
        self, base_url: str, bot_token: str | None, installation_store: AsyncInstallationStore | None = None
    ) -> None:
        self.base_url = base_url
        self.bot_token = bot_token
        self.installation_store = installation_store
        self._clients: dict[str, AsyncWebClient] = {}
        self._http: aiohttp.ClientSession | None = None

    def http(self) -> aiohttp.ClientSession | None:
        """One connection pool for this process's Slack calls (None outside an event loop).

        Without it slack_sdk opens a session, and a TCP (and TLS) connection, per API call:
        measured as a fifth of the worker's time per Slack reply (docs/performance.md).
        A closed session makes slack_sdk fall back to a session per call, so nothing breaks.
        """
        if self._http is None or self._http.closed:
            try:
                asyncio.get_running_loop()
            except RuntimeError:
                return None
            self._http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=TIMEOUT_SECONDS))
        return self._http

    async def close(self) -> None:
        if self._http is not None:
            await self._http.close()

    def for_token(self, token: str) -> AsyncWebClient:
        client = self._clients.get(token)
        if client is None:
            client = self._clients[token] = make_client(self.base_url, token, self.http())
        return client

    async def token_for(self, team_id: str) -> str:
        if self.installation_store is not None and team_id:
            bot: Any = await self.installation_store.async_find_bot(enterprise_id=None, team_id=team_id)
            if bot is not None and bot.bot_token:
                return bot.bot_token
        if self.bot_token:
            return self.bot_token
        raise PlatformError(f"threadwork is not installed in Slack workspace {team_id!r}")

    async def client_for(self, team_id: str) -> AsyncWebClient:
        return self.for_token(await self.token_for(team_id))
