"""Bot Connector calls on the event loop over one aiohttp session, not `requests` on a thread.

botframework's async ConnectorClient sends through msrest's `requests` sender: every call is
a hop to the default executor and back, and the thread's own work; together about a sixth of
a Teams worker's CPU per message (docs/performance.md). Under it, urllib3's retry policy
re-sends an update (PUT) after a 5xx up to three times, sleeping between tries on that thread.

Here each call is one HTTP request. Its failure is raised as msrest raises it
(``HttpOperationError`` from the operation, ``ClientRequestError`` for the transport), and the
caller's retry decides what happens next: the turn's durable retry, with the post log
(docs/reliability.md). Only the sender changes; botframework still builds the requests,
serializes the models and signs them with its credentials (``AppCredentials.signed_session``),
on a token thread when they hold a token: fetching one is a blocking call to Azure AD.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
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
    """The aiohttp session of the running event loop, opened on first use (clients are made off-loop),
    and the threads the clients' credentials fetch tokens on."""

    def __init__(self) -> None:
        self._session: aiohttp.ClientSession | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._token_threads: ThreadPoolExecutor | None = None

    def token_threads(self) -> ThreadPoolExecutor:
        """Not the default executor: a slow Azure AD would hold its threads, which DNS lookups wait for."""
        if self._token_threads is None:
            self._token_threads = ThreadPoolExecutor(max_workers=4, thread_name_prefix="teams-token")
        return self._token_threads

    def get(self) -> aiohttp.ClientSession:
        loop = asyncio.get_running_loop()
        if self._session is None or self._session.closed or self._loop is not loop:
            # With HTTPS_PROXY and friends set, they apply (and ~/.netrc), as through requests. Without
            # them, trusting the environment would cost two thread hops per call (netrc, proxy lookup).
            self._session = aiohttp.ClientSession(trust_env=bool(getproxies()))
            self._loop = loop
        return self._session

    async def close(self) -> None:
        threads, self._token_threads = self._token_threads, None
        if threads is not None:
            threads.shutdown(wait=False)
        session, self._session = self._session, None
        if session is not None and not session.closed and self._loop is asyncio.get_running_loop():
            await session.close()


class _SignedHeaders:
    """What ``AppCredentials.signed_session`` touches of a requests.Session: its headers (here, the request's)."""

    def __init__(self, headers: Any) -> None:
        self.headers = headers


class CredentialsPolicy(AsyncHTTPPolicy):
    """Sets (or, for an anonymous bot, removes) the request's Authorization the way the credentials say.

    ``AppCredentials.get_access_token`` is synchronous: msal looks in its cache and, when the token is
    missing or due for refresh, asks Azure AD over HTTP. On the event loop that round trip would stall
    every conversation of the process, so a bot with credentials signs on a token thread (one
    thread hop per call). An anonymous bot has no token to fetch and signs in place.
    """

    def __init__(self, credentials: Any, sessions: SessionPerLoop) -> None:
        super().__init__()
        self._credentials = credentials
        self._sessions = sessions

    def _fetches_a_token(self, headers: _SignedHeaders) -> bool:
        should = getattr(self._credentials, "_should_set_token", None)  # botframework's AppCredentials
        return bool(should(headers)) if callable(should) else True

    async def send(self, request: Request, **kwargs: Any) -> Response:
        headers = _SignedHeaders(request.http_request.headers)
        if self._fetches_a_token(headers):
            await asyncio.get_running_loop().run_in_executor(
                self._sessions.token_threads(), self._credentials.signed_session, headers
            )
        else:
            self._credentials.signed_session(headers)
        assert self.next is not None, "a policy runs inside a pipeline"
        return await self.next.send(request, **kwargs)


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
        policies.insert(1, policy or CredentialsPolicy(credentials, sessions))
    return AsyncPipeline(policies, AiohttpSender(sessions, config.connection.timeout))
