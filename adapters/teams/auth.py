"""Bot Framework authentication for inbound requests, with every auth failure a 401.

botbuilder 4.17's CloudAdapter turns only PermissionError into 401; a malformed bearer,
an expired token, an unknown key id or a missing endorsement surface as PyJWT errors,
IndexError or a bare Exception and would become a 500. ``StrictAuthentication`` wraps the
configured authentication so any failure of the authentication phase is a
PermissionError, while errors raised later by the bot itself stay what they are.
Validation runs off the event loop, because the SDK downloads keys with blocking calls.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Coroutine
from dataclasses import dataclass
from typing import Any, TypeVar

from botbuilder.integration.aiohttp import ConfigurationBotFrameworkAuthentication
from botbuilder.schema import Activity
from botframework.connector.auth import AuthenticateRequestResult, ClaimsIdentity
from botframework.connector.auth.connector_factory import ConnectorFactory
from botframework.connector.auth.user_token_client import UserTokenClient

from adapters.teams.connector_cache import CachedConnectorFactory, ClientCache, app_id_of

log = logging.getLogger(__name__)
T = TypeVar("T")

APP_TYPES = {"multitenant": "MultiTenant", "singletenant": "SingleTenant", "userassignedmsi": "UserAssignedMSI"}


@dataclass
class BotCredentials:
    """The attribute names ConfigurationBotFrameworkAuthentication reads."""

    APP_ID: str | None
    APP_PASSWORD: str | None
    APP_TYPE: str
    APP_TENANTID: str | None


def credentials_from(app_id: str | None, password: str | None, app_type: str, tenant_id: str | None) -> BotCredentials:
    """Check the combination early so a misconfiguration fails at start-up with a clear message."""
    normalized = APP_TYPES.get((app_type or "MultiTenant").lower())
    if normalized is None:
        raise ValueError(f"TEAMS_APP_TYPE must be one of {', '.join(APP_TYPES.values())}, not {app_type!r}")
    if normalized == "SingleTenant" and app_id and not (password and tenant_id):
        raise ValueError("TEAMS_APP_TYPE=SingleTenant needs TEAMS_APP_PASSWORD and TEAMS_APP_TENANT_ID")
    if normalized == "UserAssignedMSI" and not (app_id and tenant_id):
        raise ValueError("TEAMS_APP_TYPE=UserAssignedMSI needs TEAMS_APP_ID and TEAMS_APP_TENANT_ID")
    return BotCredentials(app_id or None, password or None, normalized, tenant_id or None)


class ValidationLoop:
    """One event loop on a daemon thread where tokens are validated, started on first use.

    A loop per request (asyncio.run on a pooled thread) cost a loop's setup per message and took
    threads from the default executor, which botbuilder's connector also sends through (requests
    in run_in_executor): in a burst the two starved each other (docs/performance.md).
    """

    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._lock = threading.Lock()

    def _running(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None:
                loop = asyncio.new_event_loop()
                threading.Thread(target=loop.run_forever, name="teams-token-validation", daemon=True).start()
                self._loop = loop
            return self._loop

    async def run(self, coro: Coroutine[Any, Any, T]) -> T:
        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(coro, self._running()))


VALIDATION_LOOP = ValidationLoop()


class StrictAuthentication(ConfigurationBotFrameworkAuthentication):
    """ConfigurationBotFrameworkAuthentication whose authentication failures are all PermissionError,
    and whose Bot Connector clients are reused across turns (connector_cache.py)."""

    def __init__(self, configuration: Any, **kwargs: Any) -> None:
        super().__init__(configuration, **kwargs)
        self._clients = ClientCache()

    async def authenticate_request(self, activity: Activity, auth_header: str) -> AuthenticateRequestResult:
        try:
            # The SDK fetches signing keys with blocking requests.get (no timeout): validate on a
            # thread with its own loop so a slow key endpoint never stalls the gateway. Without a
            # token (an anonymous bot; else refused) there is nothing to fetch: no hop.
            work = super().authenticate_request(activity, auth_header)
            result = await (VALIDATION_LOOP.run(work) if auth_header else work)
        except PermissionError:
            raise
        except Exception as err:  # PyJWT errors, IndexError (unknown kid), endorsement Exception...
            log.info("Bot Framework token refused: %s: %s", type(err).__name__, err)
            raise PermissionError(f"invalid Bot Framework token ({type(err).__name__})") from err
        if result.connector_factory is not None:
            app_id = app_id_of(result.claims_identity)
            result.connector_factory = CachedConnectorFactory(result.connector_factory, self._clients, app_id)
        return result

    def create_connector_factory(self, claims_identity: ClaimsIdentity) -> ConnectorFactory:
        inner = super().create_connector_factory(claims_identity)
        return CachedConnectorFactory(inner, self._clients, app_id_of(claims_identity))

    async def create_user_token_client(self, claims_identity: ClaimsIdentity) -> UserTokenClient:
        key = ("user-token", app_id_of(claims_identity))
        client = self._clients.get(key)
        if client is None:
            client = await super().create_user_token_client(claims_identity)
            self._clients.put(key, client)
        return client

    async def close(self) -> None:
        """Closes the connectors' HTTP session (the adapter's close)."""
        await self._clients.sessions.close()

    async def authenticate_streaming_request(
        self, auth_header: str, channel_id_header: str
    ) -> AuthenticateRequestResult:
        try:
            return await super().authenticate_streaming_request(auth_header, channel_id_header)
        except PermissionError:
            raise
        except Exception as err:
            raise PermissionError(f"invalid Bot Framework token ({type(err).__name__})") from err
