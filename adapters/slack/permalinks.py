"""Permalinks of the Slack messages a reply links to ("Approve or Reject it on the approval message").

A message link must open that message, not just its channel; Slack's own answer is
``chat.getPermalink``. Permalinks never change, so each is asked for once and kept
(bounded). When Slack cannot say (the message is gone, the bot left the channel), the
reply still goes out and links the channel instead.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable

from slack_sdk.errors import SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.blocks import message_links
from workflows.contracts import Reply

log = logging.getLogger(__name__)

#: Permalinks kept in memory (a few hundred bytes each).
CACHE_SIZE = 2048


class Permalinks:
    def __init__(self, client_for: Callable[[str], Awaitable[AsyncWebClient]]) -> None:
        self._client_for = client_for
        self._known: OrderedDict[tuple[str, str], str] = OrderedDict()

    async def of(self, reply: Reply) -> dict[tuple[str, str], str]:
        """(channel, ts) -> permalink for every Slack message ``reply`` links to that Slack can name."""
        found: dict[tuple[str, str], str] = {}
        for key in message_links(reply):
            assert key.thread is not None  # message_links returns message keys only
            where = (key.channel, key.thread)
            url = self._known.get(where)
            if url is None:
                url = await self._ask(key.workspace or "", *where)
            if url:
                found[where] = url
        return found

    async def _ask(self, team: str, channel: str, ts: str) -> str | None:
        try:
            client = await self._client_for(team)
            resp = await client.chat_getPermalink(channel=channel, message_ts=ts)
        except (SlackClientError, OSError) as err:
            log.warning("no permalink for message %s in %s (%s); linking the channel instead", ts, channel, err)
            return None
        url = resp.get("permalink")
        if not isinstance(url, str) or not url.startswith("https://"):
            return None
        self._known[(channel, ts)] = url
        while len(self._known) > CACHE_SIZE:
            self._known.popitem(last=False)
        return url
