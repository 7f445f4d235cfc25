"""Bot Connector calls on the event loop over one aiohttp session, not `requests` on a thread.

botframework's async ConnectorClient sends through msrest's `requests` sender: every call is
a hop to the default executor and back, and the thread's own work; together about a sixth of
a Teams worker's CPU per message (docs/performance.md). Under it, urllib3's retry policy
re-sends an update (PUT) after a 5xx up to three times, sleeping between tries on that thread.

Here each call is one HTTP request. Its failure is raised as msrest raises it
(``HttpOperationError`` from the operation, ``ClientRequestError`` for the transport), and the
caller's retry decides what happens next: the turn's durable retry, with the post log
(docs/reliability.md). Only the sender changes; botframework still builds the requests,
serializes the models and signs them with its credentials (``AppCredentials.signed_session``).
"""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.request import getproxies

import aiohttp
from msrest.exceptions import ClientRequestError
from msrest.pipeline import AsyncHTTPPolicy, AsyncHTTPSender, AsyncPipeline, Request, Response, SansIOHTTPPolicy
from msrest.pipeline.universal import RawDeserializer
from msrest.universal_http import ClientRequest
from msrest.universal_http.async_abc import AsyncClientResponse
from multidict import CIMultiDict


class SessionPerLoop:
    """The aiohttp session of the running event loop, opened on first use (clients are made off-loop)."""

    def __init__(self) -> None:
        self._session: aiohttp.ClientSession | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def get(self) -> aiohttp.ClientSession:
        loop = asyncio.get_running_loop()
        if self._session is None or self._session.closed or self._loop is not loop:
            # With HTTPS_PROXY and friends set, they apply (and ~/.netrc), as through requests. Without
            # them, trusting the environment would cost two thread hops per call (netrc, proxy lookup).
            self._session = aiohttp.ClientSession(trust_env=bool(getproxies()))
            self._loop = loop
        return self._session

    async def close(self) -> None:
        session, self._session = self._session, None
        if session is not None and not session.closed and self._loop is asyncio.get_running_loop():
            await session.close()


class _SignedHeaders:
    """What ``AppCredentials.signed_session`` touches of a requests.Session: its headers (here, the request's)."""

    def __init__(self, headers: Any) -> None:
        self.headers = headers


class CredentialsPolicy(SansIOHTTPPolicy):
    """Sets (or, for an anonymous bot, removes) the request's Authorization the way the credentials say."""

    def __init__(self, credentials: Any) -> None:
        self._credentials = credentials

    def on_request(self, request: Request, **kwargs: Any) -> None:
        self._credentials.signed_session(_SignedHeaders(request.http_request.headers))


class AiohttpSender(AsyncHTTPSender):
    """msrest's pipeline sender, one aiohttp request per call and no retries of its own."""

    def __init__(self, sessions: SessionPerLoop, timeout: float) -> None:
        self._sessions = sessions
        self._timeout = aiohttp.ClientTimeout(total=timeout)

    async def __aenter__(self) -> AiohttpSender:
        return self

    async def __aexit__(self, *exc_details: Any) -> None:
        """The session is shared by every client; its owner closes it."""

    def build_context(self) -> Any:
        return None

    async def send(self, request: Request, **config: Any) -> Response:
        http = request.http_request
        if http.files:  # only botframework's form-data mixin makes these; no operation threadwork calls does
            raise NotImplementedError("a multipart Bot Connector request cannot be sent over aiohttp here")
        try:
            async with self._sessions.get().request(
                http.method, http.url, headers=dict(http.headers), data=http.data, timeout=self._timeout
            ) as raw:
                response = LoadedResponse(http, raw.status, raw.reason, raw.headers, await raw.read())
        except (TimeoutError, aiohttp.ClientError, OSError) as err:
            raise ClientRequestError(f"Error occurred in request: {type(err).__name__}: {err}", err) from err
        return Response(request, response)


class LoadedResponse(AsyncClientResponse):
    """A whole response, read. It is its own ``internal_response``: ``HttpOperationError.response``
    then has ``status_code`` and ``headers`` as with requests, which the platform code reads."""

    def __init__(self, request: ClientRequest, status: int, reason: str | None, headers: Any, body: bytes) -> None:
        super().__init__(request, None)
        self.internal_response = self
        self.status_code = status
        self.reason = reason
        self.headers = CIMultiDict(headers)
        self._body = body

    def body(self) -> bytes:
        return self._body

    def stream_download(self, chunk_size: int | None = None, callback: Any = None) -> Any:
        async def whole() -> Any:
            if callback is not None:
                callback(self._body, self)
            yield self._body

        return whole()


def aiohttp_pipeline(config: Any, sessions: SessionPerLoop) -> AsyncPipeline:
    """The pipeline botframework's AsyncBfPipeline builds, with the aiohttp sender in place of requests."""
    policies: list[Any] = [config.user_agent_policy, RawDeserializer(), config.http_logger_policy]
    credentials = config.credentials
    if credentials:
        policy = credentials if isinstance(credentials, (AsyncHTTPPolicy, SansIOHTTPPolicy)) else None
        policies.insert(1, policy or CredentialsPolicy(credentials))
    return AsyncPipeline(policies, AiohttpSender(sessions, config.connection.timeout))
