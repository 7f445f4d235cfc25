"""Bot Connector clients reused across turns, per app id, service URL and audience.

botbuilder builds a new ConnectorClient (and a UserTokenClient) for every inbound activity
and every proactive message; msrest's configuration of each (a retry policy that lists
status codes one by one) was about 40% of the gateway's and the worker's CPU per Teams
message (docs/performance.md), and every new client opened new connections. A client holds
no per-turn state: credentials (with their token cache), a base URL and an HTTP session,
which is the cache's one aiohttp session (connector_http.py).
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

from botframework.connector.aio import ConnectorClient
from botframework.connector.auth import AuthenticationConstants, ClaimsIdentity
from botframework.connector.auth.connector_factory import ConnectorFactory

from adapters.teams.connector_http import SessionPerLoop, aiohttp_pipeline

#: Distinct (app id, service URL, audience) clients kept; Teams has a few service URLs per region.
MAX_CLIENTS = 64


def app_id_of(claims: ClaimsIdentity) -> str | None:
    """As botbuilder reads it: the audience claim from a channel, the appid claim from the Emulator."""
    value = claims.get_claim_value(AuthenticationConstants.AUDIENCE_CLAIM)
    return value if value is not None else claims.get_claim_value(AuthenticationConstants.APP_ID_CLAIM)


class ClientCache:
    """A small LRU of clients; an evicted one is left to the garbage collector."""

    def __init__(self, size: int = MAX_CLIENTS) -> None:
        self.size = size
        self._clients: OrderedDict[tuple[Any, ...], Any] = OrderedDict()
        #: The connectors' HTTP session, shared by all of them.
        self.sessions = SessionPerLoop()

    def get(self, key: tuple[Any, ...]) -> Any:
        client = self._clients.get(key)
        if client is not None:
            self._clients.move_to_end(key)
        return client

    def put(self, key: tuple[Any, ...], client: Any) -> None:
        self._clients[key] = client
        self._clients.move_to_end(key)
        while len(self._clients) > self.size:
            self._clients.popitem(last=False)


class CachedConnectorFactory(ConnectorFactory):
    """botbuilder's ConnectorFactory, handing out one client per service URL and audience."""

    def __init__(self, inner: ConnectorFactory, cache: ClientCache, app_id: str | None) -> None:
        self._inner = inner
        self._cache = cache
        self._app_id = app_id

    async def create(self, service_url: str, audience: str | None = None) -> ConnectorClient:
        key = ("connector", self._app_id, service_url, audience)
        client = self._cache.get(key)
        if client is None:
            client = await self._inner.create(service_url, audience)
            client.config.pipeline = aiohttp_pipeline(client.config, self._cache.sessions)
            # botbuilder's schema models declare no constraints (no ``_validation``): msrest's walk of
            # every activity for them finds nothing and was a third of serializing a post.
            client._serialize.client_side_validation = False
            self._cache.put(key, client)
        return client
