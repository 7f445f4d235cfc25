"""Who sent a message: users.info, cached per workspace and user for a while.

Guests (``is_restricted`` single-channel or ``is_ultra_restricted`` multi-channel) are
held to the session's guest limit, so a change of role shows up after at most the TTL.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any

from slack_sdk.errors import SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

from workflows.contracts import Actor

log = logging.getLogger(__name__)
DEFAULT_TTL_SECONDS = 600.0
MAX_ENTRIES = 10_000


def actor_from_user(user: dict[str, Any]) -> Actor:
    profile = user.get("profile") or {}
    name = (
        profile.get("display_name")
        or profile.get("real_name")
        or user.get("real_name")
        or user.get("name")
        or user["id"]
    )
    return Actor(
        id=user["id"],
        name=name,
        is_guest=bool(user.get("is_restricted") or user.get("is_ultra_restricted")),
        is_bot=bool(user.get("is_bot")),
    )


class ActorCache:
    def __init__(self, ttl: float = DEFAULT_TTL_SECONDS, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl = ttl
        self._clock = clock
        self._entries: dict[tuple[str, str], tuple[float, Actor]] = {}
        self._inflight: dict[tuple[str, str], asyncio.Future[Actor]] = {}

    async def actor(self, client: AsyncWebClient, team_id: str, user_id: str) -> Actor:
        cached = self._entries.get((team_id, user_id))
        if cached and cached[0] > self._clock():
            return cached[1]
        # One lookup per person at a time (Slack sends a mention twice, at once).
        task = self._inflight.get((team_id, user_id))
        if task is None:
            task = self._inflight[(team_id, user_id)] = asyncio.ensure_future(
                self._lookup(client, team_id, user_id, cached)
            )
            task.add_done_callback(lambda _t: self._inflight.pop((team_id, user_id), None))
        return await asyncio.shield(task)

    async def _lookup(
        self, client: AsyncWebClient, team_id: str, user_id: str, cached: tuple[float, Actor] | None
    ) -> Actor:
        now = self._clock()
        try:
            resp = await client.users_info(user=user_id)
            actor = actor_from_user(resp["user"])
        except (SlackClientError, OSError, KeyError) as err:
            if cached:  # a stale answer beats none while Slack is unreachable
                log.warning("users.info %s failed (%s); using the cached profile", user_id, err)
                return cached[1]
            log.warning("users.info %s failed (%s); treating the sender as an unnamed member", user_id, err)
            return Actor(id=user_id)
        if len(self._entries) >= MAX_ENTRIES:
            self._entries.clear()
        self._entries[(team_id, user_id)] = (now + self.ttl, actor)
        return actor
