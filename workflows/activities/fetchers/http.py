"""Documents over HTTP(S): plain links, Teams download URLs, Slack files (bot token bearer)."""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

import httpx

from workflows.activities.fetchers import Fetched, FetchError, check_declared_size, read_limited
from workflows.contracts import FileRef

log = logging.getLogger(__name__)
SLACK_FILE_HOSTS = {"files.slack.com"}


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
                        f"{host} answered HTTP {resp.status_code} {resp.reason_phrase}".strip(), retryable=resp.status_code >= 500
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


class SlackFileFetcher:
    """Slack's ``url_private_download`` needs the bot token as a bearer, and only Slack may see it."""

    def __init__(self, token: str | None, api_url: str = "https://slack.com/api/") -> None:
        self.token = token
        # The API host is allowed too, so tests (and Enterprise Grid proxies) can serve files.
        self.hosts = SLACK_FILE_HOSTS | {urlsplit(api_url).netloc}

    async def fetch(self, doc: FileRef, max_bytes: int) -> Fetched:
        if not self.token:
            raise FetchError("Slack files need SLACK_BOT_TOKEN, which is not set")
        if urlsplit(doc.url).netloc not in self.hosts:
            raise FetchError(f"{doc.url!r} is not a Slack file address, and the bot token goes only to Slack")
        return await http_get(doc, doc.url, max_bytes, {"Authorization": f"Bearer {self.token}"})
