"""Slack as a ChatPlatform: what the worker's activities call to post, update, open channels.

Posting is made as close to exactly-once as Slack allows:
1. every part of a reply is recorded under ``{idempotency_key}#{part}`` (PostedLog);
2. every part carries its key in chat.postMessage ``metadata``; a retried activity
   (attempt > 1) that finds no record looks for that metadata in the thread first;
3. the client that posts retries only what cannot have reached Slack (429, connect
   failures), never a request Slack may already have processed.
See docs/slack.md for the window that remains.
"""

from __future__ import annotations

import logging
import re
import time
from typing import Any

from aiohttp import ClientConnectorError
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient
from temporalio import activity

from adapters.base import in_local_activity
from adapters.posted_log import PostedLog
from adapters.slack.agent_status import AgentStatus
from adapters.slack.blocks import RenderError, SlackMessage, render
from adapters.slack.client import RATE_LIMIT_RETRIES, TIMEOUT_SECONDS, SlackClients, platform_error
from adapters.slack.mapping import DM_THREAD
from adapters.slack.metadata import METADATA_EVENT, post_metadata, unsure_post_key
from adapters.slack.permalinks import Permalinks
from adapters.slack.streaming import SlackReplyStream, Target, end_stream, stream_record_key
from workflows.contracts import Actor, ConversationKey, CreatedChannel, MessageRef, Reply, plain_links
from workflows.platform_port import PlatformError

log = logging.getLogger(__name__)
LOOKBACK_SECONDS = 20 * 60  # outside an activity (tests, tools): how far back to look for a post
CLOCK_SKEW_SECONDS = 120  # between the Temporal server's clock and Slack's
CHANNEL_NAME_LIMIT = 80
TOPIC_LIMIT = 250
NAME_TAKEN_TRIES = 20


def channel_name(name: str) -> str:
    """A valid conversations.create name: lowercase letters, digits, '-' and '_', at most 80 chars."""
    slug = re.sub(r"[^a-z0-9_-]+", "-", name.lower()).strip("-_")
    slug = re.sub(r"-{2,}", "-", slug)
    return (slug or "threadwork")[:CHANNEL_NAME_LIMIT].rstrip("-_") or "threadwork"


def with_suffix(base: str, n: int) -> str:
    suffix = f"-{n}"
    return base[: CHANNEL_NAME_LIMIT - len(suffix)].rstrip("-_") + suffix


def thread_ts_of(key: ConversationKey) -> str | None:
    return None if key.thread in (None, DM_THREAD) else key.thread


def _is_retry() -> bool:
    return activity.in_activity() and activity.info().attempt > 1


def _first_scheduled() -> float:
    """When the post activity was first scheduled: no earlier attempt can have posted before it.

    The retry window (THREADWORK_PLATFORM_RETRY_WINDOW) may be hours, so a fixed lookback
    would miss an "ambiguous" post made by the first attempt.
    """
    if activity.in_activity():
        return activity.info().scheduled_time.timestamp()
    return time.time() - LOOKBACK_SECONDS


def _error_code(err: SlackApiError) -> str:
    data = err.response.data
    return data.get("error", "") if isinstance(data, dict) else ""


class SlackPlatform:
    name = "slack"

    def __init__(
        self, clients: SlackClients, posted: PostedLog, *, agent: bool = False, stop_button: bool = False
    ) -> None:
        self.clients = clients
        self.posted = posted
        #: The app is declared an agent (THREADWORK_SLACK_AGENT): agent sessions follow each turn.
        self.agent = agent
        #: THREADWORK_SLACK_STOP_BUTTON: streamed replies of a non-agent app carry a Stop button.
        self.stop_button = stop_button and not agent
        self._post_clients: dict[str, AsyncWebClient] = {}
        self._stream_clients: dict[str, AsyncWebClient] = {}
        self.permalinks = Permalinks(self._client)

    async def _client(self, team: str) -> AsyncWebClient:
        return await self.clients.client_for(team)

    async def _post_client(self, team: str) -> AsyncWebClient:
        """Retries only what Slack cannot have processed: 429s and failed connects."""
        token = await self.clients.token_for(team)
        client = self._post_clients.get(token)
        if client is None:
            client = self._post_clients[token] = AsyncWebClient(
                token=token,
                base_url=self.clients.for_token(token).base_url,
                session=self.clients.http(),
                retry_handlers=[
                    AsyncRateLimitErrorRetryHandler(max_retry_count=RATE_LIMIT_RETRIES),
                    AsyncConnectionErrorRetryHandler(max_retry_count=2, error_types=[ClientConnectorError]),
                ],
            )
        return client

    async def _stream_client(self, team: str) -> AsyncWebClient:
        """No 429 retries: a rate-limited chat.startStream falls back to posting at once."""
        token = await self.clients.token_for(team)
        client = self._stream_clients.get(token)
        if client is None:
            client = self._stream_clients[token] = AsyncWebClient(
                token=token,
                base_url=self.clients.for_token(token).base_url,
                timeout=TIMEOUT_SECONDS,
                session=self.clients.http(),
                retry_handlers=[
                    AsyncConnectionErrorRetryHandler(max_retry_count=2, error_types=[ClientConnectorError])
                ],
            )
        return client

    # ---- streams (adapters/slack/streaming.py) -----------------------------------

    async def open_stream(
        self,
        key: ConversationKey,
        idempotency_key: str,
        recipient: Actor | None,
        *,
        context: dict[str, Any] | None = None,
    ) -> SlackReplyStream:
        """One reply that grows while a turn runs; a retried turn gets its earlier message back (``context``: unused)."""
        client = await self._client(key.workspace)
        stream = SlackReplyStream(
            self,
            Target(key, recipient),
            idempotency_key,
            await self._stream_client(key.workspace),
            client,
            AgentStatus(client, self.agent, recipient.id if recipient else None),
            stop_button=self.stop_button,
        )
        await stream.resume()
        return stream

    async def set_agent_status(self, key: ConversationKey, status: str) -> None:
        """The agent session of ``key``'s thread (a no-op unless the app is an agent)."""
        client = await self._client(key.workspace)
        await AgentStatus(client, self.agent).set(Target(key, None), status)

    async def find_post(self, key: ConversationKey, part_key: str) -> str | None:
        """The ts of the part posted under ``part_key`` (PostedLog, or on a retry Slack's message metadata)."""
        client = await self._post_client(key.workspace)
        return await self._already_posted(client, key.channel, thread_ts_of(key), part_key)

    async def post_part(
        self, key: ConversationKey, message: SlackMessage, part_key: str, *, lookup: bool = False
    ) -> str:
        """Post one rendered message once per ``part_key`` (the stream's fallback uses the same keys as ``post``).

        ``lookup``: an earlier try of this post failed after it may have reached Slack; look for it first.
        """
        client = await self._post_client(key.workspace)
        ts = await self._already_posted(client, key.channel, thread_ts_of(key), part_key, lookup=lookup)
        return (
            ts if ts is not None else await self._post_part(client, key.channel, thread_ts_of(key), message, part_key)
        )

    # ---- post / update -----------------------------------------------------

    async def post(
        self,
        key: ConversationKey,
        reply: Reply,
        *,
        idempotency_key: str | None = None,
        context: dict[str, Any] | None = None,
    ) -> MessageRef:
        try:
            messages = render(reply, await self.permalinks.of(reply))
        except RenderError as err:
            raise PlatformError(f"cannot render this reply for Slack: {err}") from err
        client = await self._post_client(key.workspace)
        thread_ts = thread_ts_of(key)
        unsure: dict[str, Any] | None = None
        fresh = False  # no earlier try of this key can have posted: nothing to look up
        if idempotency_key:
            if in_local_activity():  # the turn's fast path (a key of its own, never streamed)
                # A turn's local activity re-run after its worker died starts again at attempt 1 and
                # cannot tell it is a retry: it says first that this post may reach Slack unrecorded.
                # A mark already there is an earlier try's: that one may have posted.
                mark = {"local": True, "at": time.time()}
                unsure = await self.posted.put_if_absent(unsure_post_key(idempotency_key), mark)
                fresh = unsure is None
            else:
                await self._adopt_streamed(key, idempotency_key)
                # A streamed turn's own post of this reply failed after it may have reached Slack.
                unsure = await self.posted.get(unsure_post_key(idempotency_key))
        parts: list[str] = []
        for i, message in enumerate(messages):
            part_key = f"{idempotency_key}#{i}" if idempotency_key else None
            ts = None
            if not fresh:
                since = (unsure or {}).get("at")
                ts = await self._already_posted(
                    client, key.channel, thread_ts, part_key, lookup=unsure is not None, since=since
                )
            if ts is None:
                ts = await self._post_part(client, key.channel, thread_ts, message, part_key)
            parts.append(ts)
        if reply.closes_session:
            await self.set_agent_status(key, "closed")  # the session's goodbye: its agent session ends too
        return MessageRef(key=key, message_id=parts[0], extra={"channel": key.channel, "ts": parts[0], "parts": parts})

    async def _adopt_streamed(self, key: ConversationKey, idempotency_key: str) -> None:
        """A streamed turn whose platform calls failed is delivered by ``post`` under the stream's key:
        the message it streamed (ended here if still open) is that post's first part, never a second message.
        The workflow then updates it with the whole reply."""
        if await self.posted.get(f"{idempotency_key}#0") is not None:
            return
        record = await self.posted.get(stream_record_key(idempotency_key))
        if record is None:
            return
        if record.get("mode") == "stream" and record.get("state") != "done":
            # Raises while Slack cannot end it: the post is retried, and only then updated.
            await end_stream(await self._stream_client(key.workspace), record["channel"], record["ts"])
        await self.posted.put(f"{idempotency_key}#0", {"channel": record["channel"], "ts": record["ts"]})

    async def _already_posted(
        self,
        client: AsyncWebClient,
        channel: str,
        thread_ts: str | None,
        part_key: str | None,
        *,
        lookup: bool = False,
        since: float | None = None,
    ) -> str | None:
        """The part's ts if it was posted: the PostedLog, then (on a retry, or ``lookup``) Slack's message metadata
        (from ``since`` on, when an earlier try said when it began)."""
        if part_key is None:
            return None
        found = await self.posted.get(part_key)
        if found is not None:
            log.info("post %s was already made (%s); not posting again", part_key, found["ts"])
            return found["ts"]
        if not (lookup or _is_retry()):
            return None
        ts = await self._find_by_metadata(client, channel, thread_ts, part_key, since)
        if ts is not None:
            log.info("post %s found in Slack by its metadata (%s); not posting again", part_key, ts)
            await self.posted.put(part_key, {"channel": channel, "ts": ts})
        return ts

    async def _find_by_metadata(
        self, client: AsyncWebClient, channel: str, thread_ts: str | None, part_key: str, since: float | None = None
    ) -> str | None:
        start = _first_scheduled() if since is None else min(since, _first_scheduled())
        oldest = f"{start - CLOCK_SKEW_SECONDS:.6f}"
        try:
            if thread_ts:
                resp = await client.conversations_replies(
                    channel=channel, ts=thread_ts, oldest=oldest, include_all_metadata=True, limit=200
                )
            else:
                resp = await client.conversations_history(
                    channel=channel, oldest=oldest, include_all_metadata=True, limit=200
                )
        except (SlackClientError, OSError) as err:
            raise platform_error("conversations lookup", err) from err
        messages: list[dict[str, Any]] = resp.get("messages", [])
        for message in messages:
            meta = message.get("metadata") or {}
            if meta.get("event_type") == METADATA_EVENT and (meta.get("event_payload") or {}).get("key") == part_key:
                return message.get("ts")
        return None

    async def _post_part(
        self, client: AsyncWebClient, channel: str, thread_ts: str | None, message: SlackMessage, part_key: str | None
    ) -> str:
        kwargs: dict[str, Any] = {
            "channel": channel,
            "text": message.text,
            "blocks": message.blocks,
            "unfurl_links": False,
        }
        if thread_ts:
            kwargs["thread_ts"] = thread_ts
        if part_key:
            kwargs["metadata"] = post_metadata(part_key)
        try:
            resp = await client.chat_postMessage(**kwargs)
        except (SlackClientError, OSError) as err:
            raise platform_error("chat.postMessage", err) from err
        ts = resp["ts"]
        if part_key:
            await self.posted.put(part_key, {"channel": resp.get("channel") or channel, "ts": ts})
        return ts

    async def update(self, ref: MessageRef, reply: Reply) -> None:
        try:
            messages = render(reply, await self.permalinks.of(reply))
        except RenderError as err:
            raise PlatformError(f"cannot render this reply for Slack: {err}") from err
        client = await self._client(ref.key.workspace)
        channel = ref.extra.get("channel") or ref.key.channel
        parts = list(ref.extra.get("parts") or [ref.message_id])
        # Parts beyond what was first posted go into the thread; fewer parts leave the rest as they were.
        for ts, message in zip(parts, messages, strict=False):
            try:
                await client.chat_update(channel=channel, ts=ts, text=message.text, blocks=message.blocks)
            except (SlackClientError, OSError) as err:
                raise platform_error("chat.update", err) from err
        for message in messages[len(parts) :]:
            await self._post_part(
                await self._post_client(ref.key.workspace),
                channel,
                thread_ts_of(ref.key) or ref.message_id,
                message,
                None,
            )

    # ---- channels, pins, private notes --------------------------------------

    async def create_channel(
        self, name: str, *, topic: str = "", members: list[str] | None = None, like: ConversationKey
    ) -> CreatedChannel:
        client = await self._client(like.workspace)
        base = channel_name(name)
        channel_id = None
        candidate = base
        for n in range(1, NAME_TAKEN_TRIES + 1):
            candidate = base if n == 1 else with_suffix(base, n)
            try:
                resp = await client.conversations_create(name=candidate)
            except SlackApiError as err:
                if _error_code(err) == "name_taken":
                    continue
                raise platform_error("conversations.create", err) from err
            except (SlackClientError, OSError) as err:
                raise platform_error("conversations.create", err) from err
            channel_id = resp["channel"]["id"]
            break
        if channel_id is None:
            raise PlatformError(
                f"Slack channel names {base!r} to {with_suffix(base, NAME_TAKEN_TRIES)!r} are all taken"
            )
        if topic:
            await self._call(client, "conversations_setTopic", channel=channel_id, topic=topic[:TOPIC_LIMIT])
        users = [u for u in dict.fromkeys(members or []) if u]
        if users:
            try:
                await client.conversations_invite(channel=channel_id, users=",".join(users), force=True)
            except SlackApiError as err:
                # The channel exists: a member we cannot invite must not fail the incident.
                log.warning("could not invite %s to %s: %s", users, channel_id, _error_code(err))
            except (SlackClientError, OSError) as err:
                raise platform_error("conversations.invite", err) from err
        return CreatedChannel(
            platform="slack", workspace=like.workspace, channel=channel_id, thread=None, name=candidate
        )

    async def set_topic(self, key: ConversationKey, topic: str) -> None:
        client = await self._client(key.workspace)
        await self._call(client, "conversations_setTopic", channel=key.channel, topic=plain_links(topic)[:TOPIC_LIMIT])

    async def resolve_members(self, ids: list[str], *, like: ConversationKey) -> list[str]:
        """User group ids (``S...``) become their members (usergroups.users.list); user ids stay."""
        members: list[str] = []
        for member in ids:
            if not member.startswith("S"):
                members.append(member)
                continue
            client = await self._client(like.workspace)
            resp = await self._call(client, "usergroups_users_list", usergroup=member)
            members.extend(resp.get("users") or [])
        return list(dict.fromkeys(members))

    async def pin(self, ref: MessageRef) -> None:
        client = await self._client(ref.key.workspace)
        try:
            await client.pins_add(channel=ref.extra.get("channel") or ref.key.channel, timestamp=ref.message_id)
        except SlackApiError as err:
            if _error_code(err) != "already_pinned":
                raise platform_error("pins.add", err) from err
        except (SlackClientError, OSError) as err:
            raise platform_error("pins.add", err) from err

    async def send_private(self, key: ConversationKey, user_id: str, text: str) -> None:
        client = await self._client(key.workspace)
        kwargs: dict[str, Any] = {"channel": key.channel, "user": user_id, "text": text}
        if thread_ts_of(key):
            kwargs["thread_ts"] = thread_ts_of(key)
        await self._call(client, "chat_postEphemeral", **kwargs)

    async def _call(self, client: AsyncWebClient, method: str, **kwargs: Any) -> Any:
        try:
            return await getattr(client, method)(**kwargs)
        except (SlackClientError, OSError) as err:
            raise platform_error(method.replace("_", "."), err) from err
