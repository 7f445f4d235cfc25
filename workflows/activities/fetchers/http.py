"""Documents over HTTP(S): plain links, Teams download URLs, Slack files (bot token bearer)."""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

import httpx

from workflows.activities.fetchers import Fetched, FetchError, check_declared_size, read_limited
from workflows.contracts import FileRef

log = logging.getLogger(__name__)


def _failure(host: str, err: httpx.HTTPError) -> str:
    """A plain clause for the user; the exception's own words (errno text) go to the log."""
    log.warning("fetching from %s failed: %r", host, err)
    if isinstance(err, httpx.ConnectError):
        return f"{host} could not be reached"
    if isinstance(err, httpx.TimeoutException):
        return f"{host} did not answer in time"
    return f"the download from {host} broke off"


async def http_get(doc: FileRef, url: str, max_bytes: int, headers: dict[str, str] | None = None) -> Fetched:
    if not url.startswith(("http://", "https://")):
        raise FetchError(f"{url!r} is not an http(s) address")
    host = urlsplit(url).hostname or url
    try:
        async with httpx.AsyncClient(timeout=30, follow_redirects=True) as client:
            async with client.stream("GET", url, headers=headers or {}) as resp:
                if resp.status_code >= 400:
                    raise FetchError(
                        f"{host} answered HTTP {resp.status_code} {resp.reason_phrase}".strip(),
                        retryable=resp.status_code >= 500,
                    )
                length = resp.headers.get("content-length")
                check_declared_size(doc, int(length) if length and length.isdigit() else None, max_bytes)
                data = await read_limited(doc, resp.aiter_bytes(), max_bytes)
                return Fetched(data, resp.headers.get("content-type", ""), resp.charset_encoding)
    except httpx.HTTPError as err:
        raise FetchError(_failure(host, err), retryable=True) from err


class HttpFetcher:
    async def fetch(self, doc: FileRef, max_bytes: int) -> Fetched:
        return await http_get(doc, doc.url, max_bytes)
