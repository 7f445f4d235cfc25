"""A real HTTP server on 127.0.0.1 that stands in for the Slack Web API in tests.

It keeps channels and messages, records every call, checks bot tokens, and can be told
to answer 429 + Retry-After, to accept a post and then fail (a crash after Slack
processed it), to hold a method until the test releases it, or to fail a method for a
while (``outage``: 500s, 429s and "ambiguous" 500s after storing, in turn). It streams as
Slack does (chat.startStream / appendStream / stopStream: recipient fields required outside
DMs, ``message_not_in_streaming_state`` once a stream idled past ``stream_idle_expiry`` or
was stopped by the user, ``start_stream_429`` to rate-limit every start), and records
assistant.threads.setStatus and agents.sessions.setStatus. Like Slack, it
stores a user's message before the event about it is sent (``record``, called by the test
helpers for every message event they send), so ``conversations.replies`` and
``conversations.history`` answer from the users' messages and the bot's own posts.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web

BOT_TOKEN = "xoxb-test-token"
BOT_USER = "UBOT"
BOT_ID = "BBOT"
TEAM = "T1"
#: What agents.sessions.setStatus accepts (anything else: invalid_arguments).
AGENT_SESSION_STATUSES = ("processing", "active", "suspended", "closed")


_last_us = 0


def next_ts() -> str:
    """A Slack message ts: unique in this process and later than every one before, as Slack's are."""
    global _last_us
    _last_us = max(time.time_ns() // 1000, _last_us + 1)
    return f"{_last_us // 1_000_000}.{_last_us % 1_000_000:06d}"


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    token: str | None
    at: float = field(default_factory=time.monotonic)


@dataclass
class Fault:
    kind: str  # "429" | "500" | "accept_then_500" | "error"
    retry_after: int = 1
    error: str = ""


@dataclass
class Outage:
    """Every call to a method fails until ``until`` (monotonic), cycling through ``faults``."""

    until: float
    faults: list[Fault]
    served: int = 0

    def next(self) -> Fault | None:
        if time.monotonic() >= self.until:
            return None
        fault = self.faults[self.served % len(self.faults)]
        self.served += 1
        return fault


def permalink(channel: str, ts: str) -> str:
    return f"https://test.slack.com/archives/{channel}/p{ts.replace('.', '')}"


class FakeSlack:
    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.responses: list[dict[str, Any]] = []  # bodies posted to response_url
        self.tokens = {BOT_TOKEN: (TEAM, BOT_USER, BOT_ID)}
        self.users: dict[str, dict[str, Any]] = {}
        self.messages: dict[str, list[dict[str, Any]]] = {}  # the bot's posts, by channel
        self.user_messages: dict[str, dict[str, dict[str, Any]]] = {}  # channel -> ts -> message (record)
        self.ephemeral: list[dict[str, Any]] = []
        self.channels: dict[str, dict[str, Any]] = {}
        self.pins: list[tuple[str, str]] = []
        #: User groups (S...) -> member user ids, for usergroups.users.list.
        self.usergroups: dict[str, list[str]] = {}
        self.faults: dict[str, list[Fault]] = {}
        self.outages: dict[str, Outage] = {}
        self.gates: dict[str, asyncio.Event] = {}
        self._ids = itertools.count(1)
        self.runner: web.AppRunner | None = None
        self.url = ""
        self.oauth_codes: dict[str, dict[str, Any]] = {}
        self.sockets: list[web.WebSocketResponse] = []  # Socket Mode connections
        self.socket_acks: list[dict[str, Any]] = []
        #: Seconds without an append after which a stream leaves the streaming state (None: never).
        self.stream_idle_expiry: float | None = None
        #: Answer every chat.startStream with 429 + Retry-After (Slack rate-limits starts harder than posts).
        self.start_stream_429 = False
        #: assistant.threads.setStatus calls as (channel, thread_ts, status), in order.
        self.statuses: list[tuple[str, str, str]] = []
        #: agents.sessions.setStatus: (channel, thread_ts) -> statuses set, in order.
        self.agent_sessions: dict[tuple[str, str], list[str]] = {}

    # ---- test controls ---------------------------------------------------------

    def add_user(self, user_id: str, name: str, *, guest: bool = False, bot: bool = False) -> None:
        self.users[user_id] = {
            "id": user_id,
            "name": name.lower(),
            "real_name": name,
            "is_bot": bot,
            "is_restricted": guest,
            "is_ultra_restricted": False,
            "profile": {"display_name": name, "real_name": name},
        }

    def fail(self, method: str, kind: str, times: int = 1, **kw: Any) -> None:
        self.faults.setdefault(method, []).extend(Fault(kind, **kw) for _ in range(times))

    def outage(self, method: str, seconds: float, faults: list[Fault]) -> Outage:
        """Fail ``method`` for ``seconds`` from now, answering with ``faults`` in turn."""
        outage = self.outages[method] = Outage(time.monotonic() + seconds, faults)
        return outage

    def hold(self, method: str) -> asyncio.Event:
        """Make ``method`` wait until the returned event is set."""
        gate = self.gates[method] = asyncio.Event()
        return gate

    def record(self, event: dict[str, Any]) -> None:
        """Store a user's message as Slack does before sending its event (twins and retries once)."""
        if event.get("type") not in ("message", "app_mention") or event.get("subtype") not in (
            None,
            "file_share",
            "thread_broadcast",
        ):
            return
        if not event.get("channel") or not event.get("ts"):
            return
        msg = {k: event[k] for k in ("type", "user", "text", "ts", "thread_ts", "files", "bot_id") if k in event}
        msg["type"] = "message"
        self.user_messages.setdefault(event["channel"], {}).setdefault(event["ts"], msg)

    def channel_messages(self, channel: str) -> list[dict[str, Any]]:
        """Everything said in a channel (users' messages and the bot's posts), oldest first."""
        out = list(self.user_messages.get(channel, {}).values()) + list(self.messages.get(channel, []))
        return sorted(out, key=lambda m: float(m["ts"]))

    def stop_streams(self, channel: str, thread_ts: str) -> list[str]:
        """The user pressed Stop: Slack ends the bot's streams in that thread (the ts of each)."""
        stopped = []
        for msg in self.messages.get(channel, []):
            if msg.get("streaming") and msg.get("thread_ts") == thread_ts:
                msg["streaming"] = False
                msg["stopped_by_user"] = True
                stopped.append(msg["ts"])
        return stopped

    def calls_to(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    def posts(
        self, channel: str | None = None, thread_ts: str | None = None, *, streaming: bool = False
    ) -> list[dict[str, Any]]:
        """Messages the bot posted (in order), optionally in one channel / thread.

        A reply still being streamed (chat.startStream without chat.stopStream yet) counts only with ``streaming``.
        """
        out = []
        for ch, msgs in self.messages.items():
            if channel and ch != channel:
                continue
            out += [
                m
                for m in msgs
                if (thread_ts is None or m.get("thread_ts") == thread_ts) and (streaming or not self._streaming(m))
            ]
        return sorted(out, key=lambda m: float(m["ts"]))

    async def wait_for(self, predicate: Callable[[], Any], timeout: float = 20, what: str = "condition") -> Any:
        deadline = time.monotonic() + timeout
        while True:
            value = predicate()
            if value:
                return value
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what}; calls: {[c.method for c in self.calls]}")
            await asyncio.sleep(0.05)

    # ---- server ----------------------------------------------------------------

    async def start(self) -> str:
        app = web.Application()
        app.router.add_route("*", "/api/{method}", self._api)
        app.router.add_post("/response/{id}", self._response_url)
        app.router.add_get("/link", self._socket_mode)
        self.runner = web.AppRunner(app, access_log=None)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}"
        return self.url

    @property
    def api_url(self) -> str:
        return f"{self.url}/api/"

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()

    async def _response_url(self, request: web.Request) -> web.Response:
        self.responses.append(await request.json())
        return web.Response(text="ok")

    async def _socket_mode(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self.sockets.append(ws)
        await ws.send_json(
            {"type": "hello", "num_connections": 1, "connection_info": {"app_id": "A1"}, "debug_info": {}}
        )
        async for msg in ws:
            if msg.type.name == "TEXT":
                self.socket_acks.append(json.loads(msg.data))
        return ws

    async def send_envelope(self, kind: str, payload: dict[str, Any], envelope_id: str) -> None:
        """Push an event / command / interaction to the app over its Socket Mode connection."""
        if kind == "events_api":
            self.record(payload.get("event") or {})
        await self.sockets[-1].send_json(
            {
                "envelope_id": envelope_id,
                "type": kind,
                "payload": payload,
                "accepts_response_payload": kind != "events_api",
                "retry_attempt": 0,
                "retry_reason": "",
            }
        )

    async def _params(self, request: web.Request) -> dict[str, Any]:
        params: dict[str, Any] = dict(request.query)
        body = await request.read()
        if body:
            if request.content_type == "application/json":
                params.update(json.loads(body))
            else:
                params.update(dict(parse_qsl(body.decode())))
        for name in ("blocks", "metadata", "chunks", "loading_messages"):
            if isinstance(params.get(name), str):
                params[name] = json.loads(params[name])
        return params

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        params = await self._params(request)
        auth = request.headers.get("Authorization", "")
        token = auth.removeprefix("Bearer ") if auth.startswith("Bearer ") else params.get("token")
        self.calls.append(Call(method, params, token))
        gate = self.gates.get(method)
        if gate is not None:
            await gate.wait()
        faults = self.faults.get(method)
        fault = faults.pop(0) if faults else None
        outage = self.outages.get(method)
        if fault is None and outage is not None:
            fault = outage.next()
        if fault and fault.kind == "500":
            return web.Response(status=500, text="internal server error")
        if fault and fault.kind == "429":
            return web.json_response(
                {"ok": False, "error": "ratelimited"}, status=429, headers={"Retry-After": str(fault.retry_after)}
            )
        if fault and fault.kind == "error":
            return web.json_response({"ok": False, "error": fault.error})
        if method == "chat.startStream" and self.start_stream_429:
            return web.json_response({"ok": False, "error": "ratelimited"}, status=429, headers={"Retry-After": "30"})
        if method == "apps.connections.open":
            if not (token or "").startswith("xapp-"):
                return web.json_response({"ok": False, "error": "invalid_auth"})
            return web.json_response({"ok": True, "url": self.url.replace("http://", "ws://") + "/link"})
        if method not in ("oauth.v2.access",) and token not in self.tokens:
            return web.json_response({"ok": False, "error": "invalid_auth"})
        handler = getattr(self, "_" + method.replace(".", "_"), None)
        if handler is None:
            return web.json_response({"ok": False, "error": "unknown_method"}, status=404)
        result = handler(params, token)
        if fault and fault.kind == "accept_then_500":
            return web.Response(status=500, text="upstream connect error")
        return web.json_response(result)

    def _new_ts(self) -> str:
        return next_ts()

    # ---- methods -----------------------------------------------------------------

    def _auth_test(self, p: dict, token: str) -> dict:
        team, user, bot = self.tokens[token]
        return {
            "ok": True,
            "url": "https://test.slack.com/",
            "team": "Test",
            "user": "threadwork",
            "team_id": team,
            "user_id": user,
            "bot_id": bot,
        }

    def _users_info(self, p: dict, token: str) -> dict:
        user = self.users.get(p.get("user", ""))
        return {"ok": True, "user": user} if user else {"ok": False, "error": "user_not_found"}

    def _chat_postMessage(self, p: dict, token: str) -> dict:
        channel = p.get("channel", "")
        if channel not in self.messages and channel not in self.channels and channel[:1] not in ("C", "D", "G"):
            return {"ok": False, "error": "channel_not_found"}
        msg = {
            "ts": self._new_ts(),
            "channel": channel,
            "text": p.get("text", ""),
            "blocks": p.get("blocks") or [],
            "thread_ts": p.get("thread_ts"),
            "user": self.tokens[token][1],
            "bot_id": self.tokens[token][2],
        }
        if p.get("metadata"):
            msg["metadata"] = p["metadata"]
        self.messages.setdefault(channel, []).append(msg)
        return {"ok": True, "channel": channel, "ts": msg["ts"], "message": msg}

    def _find(self, channel: str, ts: str) -> dict | None:
        return next((m for m in self.messages.get(channel, []) if m["ts"] == ts), None)

    def _chat_update(self, p: dict, token: str) -> dict:
        msg = self._find(p.get("channel", ""), p.get("ts", ""))
        if msg is None:
            return {"ok": False, "error": "message_not_found"}
        if self._streaming(msg):  # stricter than documented: a stream is finished with chat.stopStream first
            return {"ok": False, "error": "cant_update_message"}
        msg.update(text=p.get("text", ""), blocks=p.get("blocks") or [], edited=True)
        return {"ok": True, "channel": msg["channel"], "ts": msg["ts"], "text": msg["text"]}

    def _chat_getPermalink(self, p: dict, token: str) -> dict:
        """The URL shape Slack documents: https://{workspace}.slack.com/archives/{channel}/p{ts without the dot}."""
        channel, ts = p.get("channel", ""), p.get("message_ts", "")
        if self._find(channel, ts) is None:
            return {"ok": False, "error": "message_not_found"}
        return {"ok": True, "channel": channel, "permalink": permalink(channel, ts)}

    def _chat_postEphemeral(self, p: dict, token: str) -> dict:
        self.ephemeral.append(dict(p))
        return {"ok": True, "message_ts": self._new_ts()}

    @staticmethod
    def _page(msgs: list[dict[str, Any]], p: dict, default_limit: int) -> dict:
        """Cursor pagination as Slack does it: has_more and response_metadata.next_cursor."""
        start = int(str(p.get("cursor") or "i:0").removeprefix("i:") or 0)
        limit = max(1, min(int(p.get("limit") or default_limit), 1000))
        page, rest = msgs[start : start + limit], msgs[start + limit :]
        return {
            "ok": True,
            "messages": page,
            "has_more": bool(rest),
            "response_metadata": {"next_cursor": f"i:{start + limit}" if rest else ""},
        }

    @staticmethod
    def _in_window(m: dict, p: dict) -> bool:
        """``oldest`` / ``latest`` bounds, exclusive unless ``inclusive``."""
        ts = float(m["ts"])
        oldest, latest = float(p.get("oldest") or 0), float(p.get("latest") or "inf")
        if str(p.get("inclusive", "")).lower() in ("1", "true"):
            return oldest <= ts <= latest
        return oldest < ts < latest

    def _visible(self, channel: str, p: dict) -> list[dict[str, Any]]:
        """Message metadata is returned only with ``include_all_metadata``, as in Slack."""
        msgs = self.channel_messages(channel)
        if str(p.get("include_all_metadata", "")).lower() in ("1", "true"):
            return msgs
        return [{k: v for k, v in m.items() if k != "metadata"} for m in msgs]

    def _conversations_replies(self, p: dict, token: str) -> dict:
        """The thread rooted at ``ts``: the parent first, then its replies oldest first."""
        root = p.get("ts", "")
        thread = [m for m in self._visible(p.get("channel", ""), p) if m["ts"] == root or m.get("thread_ts") == root]
        if not thread:
            return {"ok": False, "error": "thread_not_found"}
        parent = [m for m in thread if m["ts"] == root]
        replies = [m for m in thread if m["ts"] != root]
        if parent:
            parent = [dict(parent[0], thread_ts=root, reply_count=len(replies))]
        return self._page([m for m in parent + replies if self._in_window(m, p)], p, 1000)

    def _conversations_history(self, p: dict, token: str) -> dict:
        msgs = [
            m
            for m in self._visible(p.get("channel", ""), p)
            if m.get("thread_ts") in (None, m["ts"]) and self._in_window(m, p)
        ]
        return self._page(list(reversed(msgs)), p, 100)

    def _conversations_create(self, p: dict, token: str) -> dict:
        name = p.get("name", "")
        if any(c["name"] == name for c in self.channels.values()):
            return {"ok": False, "error": "name_taken"}
        channel_id = f"C{next(self._ids):08d}"
        self.channels[channel_id] = {"id": channel_id, "name": name, "topic": "", "members": [self.tokens[token][1]]}
        return {"ok": True, "channel": self.channels[channel_id]}

    def _conversations_setTopic(self, p: dict, token: str) -> dict:
        channel = self.channels.get(p.get("channel", ""))
        if channel is None:
            return {"ok": False, "error": "channel_not_found"}
        channel["topic"] = p.get("topic", "")
        return {"ok": True, "channel": channel}

    def _conversations_invite(self, p: dict, token: str) -> dict:
        channel = self.channels.get(p.get("channel", ""))
        if channel is None:
            return {"ok": False, "error": "channel_not_found"}
        users = [u for u in p.get("users", "").split(",") if u]
        unknown = [u for u in users if u not in self.users]
        channel["members"] += [u for u in users if u in self.users]
        if unknown and str(p.get("force", "")).lower() not in ("1", "true"):
            return {"ok": False, "error": "user_not_found"}
        return {"ok": True, "channel": channel}

    def _usergroups_users_list(self, p: dict, token: str) -> dict:
        users = self.usergroups.get(p.get("usergroup", ""))
        if users is None:
            return {"ok": False, "error": "no_such_subteam"}
        return {"ok": True, "users": users}

    def _pins_add(self, p: dict, token: str) -> dict:
        pin = (p.get("channel", ""), p.get("timestamp", ""))
        if pin in self.pins:
            return {"ok": False, "error": "already_pinned"}
        self.pins.append(pin)
        return {"ok": True}

    def _oauth_v2_access(self, p: dict, token: str | None) -> dict:
        grant = self.oauth_codes.pop(p.get("code", ""), None)
        if grant is None:
            return {"ok": False, "error": "invalid_code"}
        self.tokens[grant["access_token"]] = (grant["team"]["id"], grant["bot_user_id"], "B" + grant["team"]["id"])
        return {"ok": True, **grant}

    # ---- streaming, status, agent sessions ---------------------------------------

    @staticmethod
    def _stream_text(p: dict) -> tuple[str, list[dict[str, Any]]]:
        """The markdown text and the other chunks (task_update, plan_update, blocks) of one call."""
        text = p.get("markdown_text") or ""
        others = []
        for chunk in p.get("chunks") or []:
            if chunk.get("type") == "markdown_text":
                text += chunk.get("text", "")
            else:
                others.append(chunk)
        return text, others

    def _streaming(self, msg: dict[str, Any]) -> bool:
        if not msg.get("streaming"):
            return False
        if self.stream_idle_expiry is not None and time.monotonic() - msg["last_append"] > self.stream_idle_expiry:
            msg["streaming"] = False
            msg["expired"] = True
            return False
        return True

    def _apply_chunks(self, msg: dict[str, Any], p: dict) -> None:
        text, others = self._stream_text(p)
        msg["text"] += text
        msg["stream_calls"] += 1
        for chunk in others:
            if chunk.get("type") == "task_update":
                msg["tasks"][chunk["id"]] = {"title": chunk.get("title", ""), "status": chunk.get("status", "")}
            elif chunk.get("type") == "plan_update":
                msg["plan_title"] = chunk.get("title", "")
            elif chunk.get("type") == "blocks":  # shown in the message while it streams
                msg["blocks"] = msg.get("blocks", []) + list(chunk.get("blocks") or [])
        msg["last_append"] = time.monotonic()

    def _chat_startStream(self, p: dict, token: str) -> dict:
        channel, thread_ts = p.get("channel", ""), p.get("thread_ts")
        if not channel or not thread_ts:
            return {
                "ok": False,
                "error": "invalid_arguments",
                "response_metadata": {"messages": ["channel and thread_ts are required"]},
            }
        if not channel.startswith("D") and not (p.get("recipient_user_id") and p.get("recipient_team_id")):
            return {
                "ok": False,
                "error": "invalid_arguments",
                "response_metadata": {"messages": ["recipient_user_id and recipient_team_id are required outside DMs"]},
            }
        msg = {
            "ts": self._new_ts(),
            "channel": channel,
            "text": "",
            "blocks": [],
            "thread_ts": thread_ts,
            "user": self.tokens[token][1],
            "bot_id": self.tokens[token][2],
            "streaming": True,
            "stream_calls": 0,
            "tasks": {},
            "recipient_user_id": p.get("recipient_user_id"),
            "recipient_team_id": p.get("recipient_team_id"),
            "task_display_mode": p.get("task_display_mode"),
        }
        self._apply_chunks(msg, p)
        self.messages.setdefault(channel, []).append(msg)
        return {"ok": True, "channel": channel, "ts": msg["ts"]}

    def _chat_appendStream(self, p: dict, token: str) -> dict:
        msg = self._find(p.get("channel", ""), p.get("ts", ""))
        if msg is None:
            return {"ok": False, "error": "message_not_found"}
        if not self._streaming(msg):
            return {"ok": False, "error": "message_not_in_streaming_state"}
        self._apply_chunks(msg, p)
        return {"ok": True, "channel": msg["channel"], "ts": msg["ts"]}

    def _chat_stopStream(self, p: dict, token: str) -> dict:
        msg = self._find(p.get("channel", ""), p.get("ts", ""))
        if msg is None:
            return {"ok": False, "error": "message_not_found"}
        if not self._streaming(msg):
            return {"ok": False, "error": "message_not_in_streaming_state"}
        self._apply_chunks(msg, p)
        msg["streaming"] = False
        msg["blocks"] = p.get("blocks") or []
        if p.get("metadata"):
            msg["metadata"] = p["metadata"]
        if p.get("session_status"):
            if p["session_status"] not in AGENT_SESSION_STATUSES:
                return {"ok": False, "error": "invalid_arguments"}
            self.agent_sessions.setdefault((msg["channel"], msg["thread_ts"]), []).append(p["session_status"])
        return {
            "ok": True,
            "channel": msg["channel"],
            "ts": msg["ts"],
            "message": {k: v for k, v in msg.items() if k != "last_append"},
        }

    def _assistant_threads_setStatus(self, p: dict, token: str) -> dict:
        if not p.get("channel_id") or not p.get("thread_ts") or "status" not in p:
            return {"ok": False, "error": "invalid_arguments"}
        self.statuses.append((p["channel_id"], p["thread_ts"], p["status"]))
        return {"ok": True}

    def _agents_sessions_setStatus(self, p: dict, token: str) -> dict:
        if not p.get("channel_id") or p.get("status") not in AGENT_SESSION_STATUSES:
            return {"ok": False, "error": "invalid_arguments"}
        self.agent_sessions.setdefault((p["channel_id"], p.get("thread_ts") or ""), []).append(p["status"])
        return {"ok": True}
