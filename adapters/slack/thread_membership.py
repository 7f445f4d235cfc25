"""Whether a thread reply without a mention belongs to a session, decided from what Slack knows.

Bolt acknowledges an event before its listener runs, so a follow-up typed right after a
mention can reach the gateway before (or alongside) the mention itself: asking Temporal
whether the session exists yet is a race. Slack stores a message before it sends the
event, so the thread's own messages (``conversations.replies``) already hold the mention
or the bot's reply when the follow-up's event arrives. A thread belongs to a session from
its first message that mentions the bot, or that the bot posted *as that thread's session*
(its ``threadwork_post`` metadata key starts with the session id): a bot post that is not a
session's reply (an incident card, an alert notice) does not make its thread a conversation.

Cost, per thread:
- known threads need no call: a mention seen by this gateway marks its thread at once,
  a session that Temporal knows or a lookup that found the bot is remembered (LRU);
- a lookup's answer covers every message up to the newest one it saw, so later events
  for messages it already covered are decided without a call;
- messages newer than the last answer wait for the next lookup, which starts at most
  once per ``min_interval`` per thread and serves all of them (a busy unrelated thread
  costs one call per interval, not one per message); a mention seen meanwhile answers
  the waiters at once, and a lookup nobody waits for any more is skipped.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from slack_sdk.errors import SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.mapping import from_self_or_bot, mentions
from adapters.slack.metadata import METADATA_EVENT

log = logging.getLogger(__name__)

MIN_INTERVAL = 10.0  # seconds between two lookups of the same thread
MAX_THREADS = 10_000  # threads remembered (known or covered), least recently used dropped first
PAGE_SIZE = 200
MAX_PAGES = 5  # a thread longer than 1,000 messages is judged by its first 1,000

ThreadId = tuple[str, str, str]  # (team, channel, thread_ts)


def _ts(value: str | None) -> float:
    try:
        return float(value or 0)
    except ValueError:
        return 0.0


@dataclass
class _Thread:
    #: ts of the first message that mentions or comes from the bot (0: a session exists); None: not known.
    since: float | None = None
    #: Slack's last answer covered every message up to this ts.
    covered: float = -1.0
    last_lookup: float = float("-inf")  # time.monotonic() when the last lookup started
    waiting: int = 0  # messages waiting for a lookup
    next_lookup: asyncio.Future[None] | None = None  # the lookup not started yet (shared)
    wake: asyncio.Event = field(default_factory=asyncio.Event)  # set when the thread becomes known


SessionExists = Callable[[], Awaitable[bool]]


class ThreadMembership:
    """Per gateway: which Slack threads belong to a session (see the module docstring)."""

    def __init__(self, *, min_interval: float = MIN_INTERVAL, max_threads: int = MAX_THREADS) -> None:
        self.min_interval = min_interval
        self.max_threads = max_threads
        self._threads: OrderedDict[ThreadId, _Thread] = OrderedDict()
        #: conversations.replies calls made (figures for docs/reliability.md, and tests).
        self.lookups = 0
        self._tasks: set[asyncio.Task[None]] = set()

    async def close(self) -> None:
        """Gateway shutdown: scheduled lookups stop; their waiters get "not for the bot"."""
        tasks, self._tasks = list(self._tasks), set()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def mark_known(self, thread: ThreadId, since_ts: str | float = 0.0) -> None:
        """A mention (or a session) seen in ``thread``: its messages from ``since_ts`` on belong to it."""
        state = self._state(thread)
        since = _ts(since_ts) if isinstance(since_ts, str) else float(since_ts)
        if state.since is None or since < state.since:
            state.since = since
            state.wake.set()
            state.wake = asyncio.Event()

    def is_known(self, thread: ThreadId, ts: str) -> bool:
        state = self._threads.get(thread)
        return state is not None and _known(state, _ts(ts))

    async def belongs(
        self, thread: ThreadId, ts: str, client: AsyncWebClient, bot: BotIdentity, session_exists: SessionExists
    ) -> bool:
        """Whether the message ``ts`` in ``thread`` belongs to the thread's session."""
        at = _ts(ts)
        state = self._state(thread)
        if _known(state, at):
            return True
        if at <= state.covered:
            return False  # Slack's last answer already held this message, and no mention before it
        lookup = self._join_next_lookup(thread, state, client, bot, session_exists)
        state.waiting += 1
        try:
            while not _known(state, at) and not lookup.done():
                woken = asyncio.ensure_future(state.wake.wait())
                either: set[asyncio.Future[Any]] = {lookup, woken}
                try:
                    await asyncio.wait(either, return_when=asyncio.FIRST_COMPLETED)
                finally:
                    woken.cancel()
        finally:
            state.waiting -= 1
        # The lookup started after this message's event arrived, so Slack's answer held it:
        # known now, or not for the bot (or Slack could not answer, which was logged).
        return _known(state, at)

    def _join_next_lookup(
        self, thread: ThreadId, state: _Thread, client: AsyncWebClient, bot: BotIdentity, session_exists: SessionExists
    ) -> asyncio.Future[None]:
        if state.next_lookup is None:
            future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            state.next_lookup = future
            task = asyncio.create_task(self._run_lookup(thread, state, future, client, bot, session_exists))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        return state.next_lookup

    async def _run_lookup(
        self,
        thread: ThreadId,
        state: _Thread,
        future: asyncio.Future[None],
        client: AsyncWebClient,
        bot: BotIdentity,
        session_exists: SessionExists,
    ) -> None:
        """Waits out the interval, then answers every message that arrived before it started."""
        try:
            delay = state.last_lookup + self.min_interval - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            state.next_lookup = None  # messages arriving from now on need the lookup after this one
            if state.waiting == 0:
                return  # a mention seen meanwhile answered everyone
            state.last_lookup = time.monotonic()
            await self._look_up(thread, state, client, bot, session_exists)
        except Exception:  # a bug here must not leave the waiters hanging
            log.exception("looking up Slack thread %s failed", thread)
        finally:
            if state.next_lookup is future:
                state.next_lookup = None
            if not future.done():
                future.set_result(None)

    async def _look_up(
        self, thread: ThreadId, state: _Thread, client: AsyncWebClient, bot: BotIdentity, session_exists: SessionExists
    ) -> None:
        """A session Temporal knows first (no Slack call), else the thread's messages."""
        if state.since is None and await session_exists():
            self.mark_known(thread, 0.0)
            return
        _team, channel, thread_ts = thread
        newest, first_hit = -1.0, None
        cursor: str | None = None
        try:
            for _ in range(MAX_PAGES):
                self.lookups += 1
                kwargs: dict[str, Any] = {
                    "channel": channel,
                    "ts": thread_ts,
                    "limit": PAGE_SIZE,
                    "include_all_metadata": True,
                }
                if cursor:
                    kwargs["cursor"] = cursor
                resp = await client.conversations_replies(**kwargs)
                for message in resp.get("messages") or []:
                    at = _ts(message.get("ts"))
                    newest = max(newest, at)
                    if bot.opens_session(message) and (first_hit is None or at < first_hit):
                        first_hit = at
                cursor = (resp.get("response_metadata") or {}).get("next_cursor") or None
                if not resp.get("has_more") or not cursor:
                    break
        except (TimeoutError, SlackClientError, OSError) as err:
            log.warning(
                "could not read Slack thread %s in %s to see whether it is for the bot: %s", thread_ts, channel, err
            )
            return
        state.covered = max(state.covered, newest)
        if first_hit is not None:
            self.mark_known(thread, first_hit)

    def _state(self, thread: ThreadId) -> _Thread:
        state = self._threads.get(thread)
        if state is None:
            state = self._threads[thread] = _Thread()
            while len(self._threads) > self.max_threads:
                dropped = next(iter(self._threads.values()))
                if dropped.waiting or dropped.next_lookup is not None:
                    break  # never forget a thread someone waits on
                self._threads.popitem(last=False)
        else:
            self._threads.move_to_end(thread)
        return state


def _known(state: _Thread, at: float) -> bool:
    return state.since is not None and at >= state.since


@dataclass(frozen=True)
class BotIdentity:
    """Who the bot is in a workspace, and the session id of the thread being judged."""

    user_id: str | None
    bot_id: str | None
    session_id: str

    def opens_session(self, message: dict[str, Any]) -> bool:
        """A person's message that mentions the bot, or a reply the bot posted as this thread's session."""
        if not from_self_or_bot(message, self.user_id, self.bot_id):
            return mentions(message.get("text") or "", self.user_id)
        if not (message.get("user") == self.user_id or (self.bot_id and message.get("bot_id") == self.bot_id)):
            return False
        meta = message.get("metadata") or {}
        key = str((meta.get("event_payload") or {}).get("key", ""))
        return meta.get("event_type") == METADATA_EVENT and key.startswith(self.session_id + "#")
