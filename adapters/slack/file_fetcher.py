"""Files attached in Slack: ``url_private_download`` with the bot token, and only from Slack's hosts."""

from __future__ import annotations

from urllib.parse import urlsplit

from workflows.activities.fetchers import Fetched, FetchError
from workflows.activities.fetchers.http import http_get
from workflows.contracts import FileRef

SLACK_FILE_HOSTS = {"files.slack.com"}


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
