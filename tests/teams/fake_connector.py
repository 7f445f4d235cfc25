"""A local stand-in for the Bot Connector service (the activities' serviceUrl in tests).

It records what the bot sends (POST activities and replies, PUT updates, POST
conversations) and answers member look-ups from a table the test fills in. ``down_until``
makes it answer posts with 503 for a while (an outage: nothing is stored). Activities with
a ``streaminfo`` entity go through ``streams`` (tests/teams/fake_streams.py), which enforces
Teams' streaming rules and plays the user's Stop button.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.support.stack import free_port
from tests.teams.fake_streams import Refused, StreamBook, stream_info


@dataclass
class Call:
    method: str
    conversation_id: str
    activity_id: str | None
    body: dict[str, Any]
    authorization: str | None
    #: The id this service gave the posted activity (what the bot may update later).
    new_id: str | None = None

    @property
    def text(self) -> str:
        return self.body.get("text") or ""

    @property
    def card(self) -> dict[str, Any] | None:
        for attachment in self.body.get("attachments") or []:
            if attachment.get("contentType") == "application/vnd.microsoft.card.adaptive":
                return attachment["content"]
        return None

    def searchable(self) -> str:
        """Everything a person would read: the text, the card's fallback and its text blocks."""
        parts = [self.text, self.body.get("summary") or ""]
        if self.card:
            parts.append(self.card.get("fallbackText", ""))
        return " | ".join(p for p in parts if p)


@dataclass
class FakeConnector:
    url: str = ""
    calls: list[Call] = field(default_factory=list)
    created: list[dict[str, Any]] = field(default_factory=list)
    #: member id -> TeamsChannelAccount JSON (name, userRole...)
    members: dict[str, dict[str, Any]] = field(default_factory=dict)
    _ids: Any = field(default_factory=lambda: itertools.count(1000))
    #: Until this time.monotonic(), posts are refused with 503 (and counted in ``refused``).
    down_until: float = 0.0
    refused: int = 0
    #: The status and Retry-After header (None: no header) of those refusals.
    down_status: int = 503
    down_retry_after: str | None = None
    #: Streamed replies (1:1 chats), by streamId.
    streams: StreamBook = field(default_factory=StreamBook)

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/v3/conversations", self.create_conversation)
        app.router.add_post("/v3/conversations/{cid}/activities", self.send)
        app.router.add_post("/v3/conversations/{cid}/activities/{aid}", self.send)
        app.router.add_put("/v3/conversations/{cid}/activities/{aid}", self.update)
        app.router.add_get("/v3/conversations/{cid}/members", self.list_members)
        app.router.add_get("/v3/conversations/{cid}/members/{mid}", self.get_member)
        return app

    def _record(self, request: web.Request, method: str, body: dict[str, Any], new_id: str | None) -> Call:
        call = Call(
            method=method,
            conversation_id=request.match_info["cid"],
            activity_id=request.match_info.get("aid"),
            body=body,
            authorization=request.headers.get("Authorization"),
            new_id=new_id,
        )
        self.calls.append(call)
        return call

    async def send(self, request: web.Request) -> web.Response:
        if time.monotonic() < self.down_until:
            self.refused += 1
            headers = {"Retry-After": self.down_retry_after} if self.down_retry_after is not None else None
            return web.json_response(
                {"error": {"code": "ServiceUnavailable", "message": "try later"}},
                status=self.down_status,
                headers=headers,
            )
        body = await request.json()
        info = stream_info(body)
        if info is not None:
            status, answer = self.streams.accept(request.match_info["cid"], body)
            if status < 300:
                # The final message is the message the chat keeps (its id is the streamId): a post.
                final = info.get("streamType") == "final"
                self._record(
                    request, "POST" if final else "STREAM", body, info["streamId"] if final else answer.get("id")
                )
            return web.json_response(answer, status=status)
        new_id = f"bot-{next(self._ids)}"
        self._record(request, "POST", body, new_id)
        return web.json_response({"id": new_id})

    async def update(self, request: web.Request) -> web.Response:
        body = await request.json()
        try:
            self.streams.update(request.match_info["cid"], request.match_info["aid"], body)
        except Refused as refusal:
            return web.json_response(refusal.body, status=refusal.status)
        self._record(request, "PUT", body, None)
        return web.json_response({"id": request.match_info["aid"]})

    async def create_conversation(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.created.append({"body": body, "authorization": request.headers.get("Authorization")})
        n = next(self._ids)
        channel = ((body.get("channelData") or {}).get("channel") or {}).get("id")
        conversation_id = f"{channel};messageid={n}" if channel else f"a:1on1-{n}"
        return web.json_response({"id": conversation_id, "activityId": str(n), "serviceUrl": self.url})

    async def get_member(self, request: web.Request) -> web.Response:
        member = self.members.get(request.match_info["mid"])
        if member is None:
            return web.json_response(
                {"error": {"code": "MemberNotFoundInConversation", "message": "no such member"}}, status=404
            )
        return web.json_response(member)

    async def list_members(self, request: web.Request) -> web.Response:
        return web.json_response(list(self.members.values()))

    # ---- for assertions ------------------------------------------------------------

    def posts(self, conversation_id: str) -> list[Call]:
        return [c for c in self.calls if c.method == "POST" and c.conversation_id == conversation_id]

    def updates(self, conversation_id: str) -> list[Call]:
        return [c for c in self.calls if c.method == "PUT" and c.conversation_id == conversation_id]

    def streamed(self, conversation_id: str) -> list[Call]:
        """Typing activities of streams (informative updates and chunks); a final message is a post."""
        return [c for c in self.calls if c.method == "STREAM" and c.conversation_id == conversation_id]

    def latest(self, conversation_id: str) -> list[Call]:
        """The bot's messages in the order they appeared, each as its latest version: a post (or a
        streamed reply's final message) with its last update, or the last activity of a stream that
        never got a final message (stopped by the user, still streaming, expired)."""
        shown = []
        for call in self.calls:
            if call.conversation_id != conversation_id or call.new_id is None:
                continue
            if call.method == "POST":
                edits = [c for c in self.updates(conversation_id) if c.activity_id == call.new_id]
                shown.append(edits[-1] if edits else call)
            elif call.method == "STREAM":  # the activity that started a stream (its answer named it)
                stream = self.streams.streams[call.new_id]
                if stream.final is None and (stream.chunks or stream.updates):
                    edits = [c for c in self.updates(conversation_id) if c.activity_id == call.new_id]
                    last = [
                        c
                        for c in self.streamed(conversation_id)
                        if c.new_id == call.new_id or (stream_info(c.body) or {}).get("streamId") == call.new_id
                    ]
                    shown.append(edits[-1] if edits else last[-1])
        return shown

    def messages(self, conversation_id: str) -> list[str]:
        """What the chat shows from the bot now: the text of each message (see ``latest``)."""
        return [call.searchable() for call in self.latest(conversation_id)]

    async def wait_for(self, what: Callable[[], list[Call]], count: int, timeout: float = 20) -> list[Call]:
        """Wait until ``what()`` has at least ``count`` calls; fail showing what is there."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            found = what()
            if len(found) >= count:
                return found
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"expected {count} calls, got {[c.searchable() for c in found]}")
            await asyncio.sleep(0.05)


async def start_connector() -> tuple[FakeConnector, web.AppRunner]:
    connector = FakeConnector()
    runner = web.AppRunner(connector.app(), access_log=None)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    connector.url = f"http://127.0.0.1:{port}/"
    return connector, runner
