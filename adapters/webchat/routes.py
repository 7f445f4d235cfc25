"""The web chat's HTTP API (JSON + server-sent events) and its page, as aiohttp routes."""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
from pathlib import Path
from typing import Any

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from adapters.http_body import BodyError, read_json
from adapters.http_errors import bad_request
from adapters.storage.uploads import LocalUploadFiles, UploadFiles
from adapters.webchat.answers import deliver
from adapters.webchat.handover import Handovers
from adapters.webchat.identity import Identities, Identity
from adapters.webchat.invites import SIGNIN_PATH, InviteError, Invites
from adapters.webchat.origin import same_origin
from adapters.webchat.revocations import revocations_ctx
from adapters.webchat.stop import STOP_PATH, PostStop, StopRoute
from adapters.webchat.store import WebChatStore, new_id
from adapters.webchat.uploads import WebChatUploads
from workflows.contracts import MAX_MESSAGE_CHARS, ActionEvent, Actor, ChatMessage, ConversationKey, MessageRef
from workflows.platform_port import SessionDispatcher

log = logging.getLogger(__name__)
STATIC = Path(__file__).with_name("static")
HEARTBEAT_SECONDS = 15.0
POLL_SECONDS = 1.0


class PostMessage(BaseModel):
    model_config = ConfigDict(extra="forbid")
    channel: str = Field(min_length=1, max_length=80)
    thread: str | None = None
    user: str = Field(min_length=1, max_length=80)
    text: str
    guest: bool = False
    message_id: str | None = Field(None, min_length=1, max_length=128)

    @field_validator("text")
    @classmethod
    def _text(cls, text: str) -> str:
        if not text.strip():
            raise ValueError("text is empty")
        if len(text) > MAX_MESSAGE_CHARS:
            raise ValueError(f"text is {len(text)} characters; the limit is {MAX_MESSAGE_CHARS}")
        return text


class PostAction(BaseModel):
    model_config = ConfigDict(extra="forbid")
    channel: str = Field(min_length=1)
    thread: str | None = None
    message_id: str = Field(min_length=1)
    action_id: str = Field(min_length=1)
    value: str = ""
    user: str = Field(min_length=1, max_length=80)


class SignIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    token: str = Field(min_length=1, max_length=200)


def _explain(err: ValidationError) -> str:
    parts = []
    for e in err.errors():
        where = ".".join(str(p) for p in e["loc"]) or "body"
        msg = e["msg"].removeprefix("Value error, ")
        if e["type"] == "missing":
            msg = "is required"
        elif e["type"] == "extra_forbidden":
            msg = "is not a known field"
        parts.append(f"{where} {msg}" if e["type"] in ("missing", "extra_forbidden") else f"{where}: {msg}")
    return "; ".join(parts)


async def _json_body(request: web.Request, model: type[BaseModel]) -> BaseModel | web.Response:
    try:
        data = await read_json(request)  # 1 MB: 40,000 characters even as escaped surrogate pairs
    except BodyError as err:
        return err.response()
    try:
        return model.model_validate(data)
    except ValidationError as err:
        return bad_request(_explain(err))


def _find_button(message: dict[str, Any], action_id: str, value: str) -> dict[str, Any] | None:
    for block in message.get("blocks", []):
        if block.get("type") != "buttons":
            continue
        for button in block.get("buttons", []):
            if button.get("action_id") == action_id and (not value or button.get("value", "") == value):
                return button
    return None


def _same_message(stored: dict[str, Any], body: PostMessage, label: str, thread: str | None) -> bool:
    """A resend (same id) must be the same message; anything else would be silently dropped."""
    return (
        stored["channel"] == body.channel
        and stored["user"] == label
        and stored["text"] == body.text
        and not stored["is_bot"]
        and thread in (None, stored["thread"])
    )


class WebChatRoutes:
    def __init__(
        self,
        store: WebChatStore,
        dispatcher: SessionDispatcher,
        data_dir: Path | None = None,
        max_upload_bytes: int = 20 * 1024 * 1024,
        upload_files: UploadFiles | None = None,
        *,
        identities: Identities | None = None,
        guest_message_limit: int = 3,
        replay_after: float = 30.0,
    ) -> None:
        """``identities`` defaults to open mode with a key of this process only (tests, embedding);
        ``upload_files`` to the data dir (``data_dir``, else the store's folder); ``replay_after``:
        seconds before a stored message that no gateway queued is handed over (adapters/webchat/handover.py)."""
        self.store = store
        self.dispatcher = dispatcher
        identities = identities or Identities("open", secrets.token_bytes(32))
        self.identities = identities
        self.invites = Invites(store)
        self.guest_message_limit = guest_message_limit
        if upload_files is None:
            upload_files = LocalUploadFiles(data_dir or store.path.parent)  # type: ignore[attr-defined]
        self.uploads = WebChatUploads(store, dispatcher, identities, upload_files, max_upload_bytes)
        self.stops = StopRoute(store, dispatcher, identities)
        self.handovers = Handovers(store, dispatcher, replay_after)
        self._closing = asyncio.Event()

    def add_to(self, app: web.Application) -> None:
        app.router.add_get("/", self.index)
        app.router.add_static("/webchat/static", STATIC)
        app.router.add_get(SIGNIN_PATH, self.signin_page)
        app.router.add_get("/webchat/api/me", self.me)
        app.router.add_post("/webchat/api/signin", same_origin(self.sign_in))
        app.router.add_post("/webchat/api/messages", same_origin(self.post_message))
        app.router.add_get("/webchat/api/channels", self.list_channels)
        app.router.add_get("/webchat/api/channels/{channel}/messages", self.list_messages)
        app.router.add_post("/webchat/api/actions", same_origin(self.post_action))
        app.router.add_post(STOP_PATH, same_origin(self.post_stop))
        app.router.add_get("/webchat/api/stream", self.stream)
        self.uploads.add_to(app)
        app.on_shutdown.append(self._end_streams)
        app.cleanup_ctx.append(revocations_ctx(self.store, self.identities))
        app.on_startup.append(lambda _app: self.handovers.start())
        app.on_cleanup.append(lambda _app: self.handovers.close())

    async def _end_streams(self, app: web.Application) -> None:
        """Open event streams would hold a graceful shutdown for its whole timeout: end them."""
        self._closing.set()

    async def index(self, request: web.Request) -> web.StreamResponse:
        return self.identities.remember(web.FileResponse(STATIC / "index.html"), self.identities.of(request), request)

    async def signin_page(self, request: web.Request) -> web.StreamResponse:
        """The page a sign-in link opens; the token stays in the URL fragment, so it never reaches a log."""
        return web.FileResponse(STATIC / "signin.html")

    async def me(self, request: web.Request) -> web.Response:
        identity = self.identities.of(request)
        answer = web.json_response(self.identities.describe(identity, self.guest_message_limit))
        return self.identities.remember(answer, identity, request)

    async def sign_in(self, request: web.Request) -> web.Response:
        """Redeem a one-time invite: this browser becomes the invited member."""
        body = await _json_body(request, SignIn)
        if isinstance(body, web.Response):
            return body
        assert isinstance(body, SignIn)
        if self.identities.mode == "proxy":
            return bad_request("sign-in links are not used here: your sign-in proxy says who you are")
        try:
            name = await self.invites.redeem(body.token)
        except InviteError as err:
            log.warning("web chat: sign-in refused: %s", err)
            return web.json_response({"error": str(err)}, status=403)
        identity = Identity(id=name, is_member=True, name=name, cookie=self.identities.sign(name, member=name))
        log.info("web chat: %s signed in", name)
        answer = web.json_response(self.identities.describe(identity, self.guest_message_limit))
        return self.identities.remember(answer, identity, request)

    async def list_channels(self, request: web.Request) -> web.Response:
        return web.json_response(await self.store.channels())

    async def list_messages(self, request: web.Request) -> web.Response:
        channel = request.match_info["channel"]
        if not await self.store.channel_exists(channel):
            return web.json_response({"error": f"channel {channel!r} does not exist"}, status=404)
        return web.json_response(await self.store.messages(channel, request.query.get("thread")))

    async def post_message(self, request: web.Request) -> web.Response:
        body = await _json_body(request, PostMessage)
        if isinstance(body, web.Response):
            return body
        assert isinstance(body, PostMessage)
        identity = self.identities.of(request)
        return self.identities.remember(await self._post_message(body, identity), identity, request)

    async def _post_message(self, body: PostMessage, identity: Identity) -> web.Response:
        label = identity.label(body.user)
        if not await self.store.channel_exists(body.channel):
            return bad_request(f"channel {body.channel!r} does not exist")
        thread = body.thread
        if thread is not None:
            parent = await self.store.get_message(thread)
            if parent is None or parent["channel"] != body.channel:
                return bad_request(f"thread {thread!r} does not exist in channel {body.channel!r}")
            thread = parent["thread"]  # a reply's id means its thread, as on Slack
        message_id = body.message_id or new_id()
        stored = await self.store.get_message(message_id)
        if stored is not None:
            if not _same_message(stored, body, label, thread):
                return bad_request(f"message_id {message_id!r} was already used for a different message")
            thread = stored["thread"]
        key = ConversationKey(platform="webchat", channel=body.channel, thread=thread or message_id)
        msg = ChatMessage(
            key=key,
            # Membership is the server's call; a browser may only volunteer to be a guest.
            actor=Actor(id=identity.id, name=label, is_guest=not identity.is_member or body.guest),
            text=body.text,
            message_id=message_id,
        )
        if stored is None:  # with its hand-over, so a gateway dying before the queue has it loses nothing
            await self.store.add_message(
                channel=body.channel,
                thread=thread,
                user=label,
                text=body.text,
                message_id=message_id,
                handover=msg.model_dump_json(),
            )
        return await deliver(self.store, self.dispatcher, msg)

    async def post_action(self, request: web.Request) -> web.Response:
        body = await _json_body(request, PostAction)
        if isinstance(body, web.Response):
            return body
        assert isinstance(body, PostAction)
        identity = self.identities.of(request)
        return self.identities.remember(await self._post_action(body, identity), identity, request)

    async def _post_action(self, body: PostAction, identity: Identity) -> web.Response:
        message = await self.store.get_message(body.message_id)
        if message is None or message["channel"] != body.channel:
            return bad_request(f"message {body.message_id!r} does not exist in channel {body.channel!r}")
        button = _find_button(message, body.action_id, body.value)
        if button is None:
            return bad_request(f"message {body.message_id!r} has no button {body.action_id!r}")
        key = ConversationKey(platform="webchat", channel=body.channel, thread=message["thread"])
        event = ActionEvent(
            key=key,
            actor=Actor(id=identity.id, name=identity.label(body.user), is_guest=not identity.is_member),
            action_id=body.action_id,
            value=body.value or button.get("value", ""),
            message_ref=MessageRef(key=key, message_id=body.message_id),
            event_id=f"webchat-action-{new_id()}",
        )
        result = await self.dispatcher.act(button["workflow_id"], event)
        return web.json_response({"ephemeral": result.ephemeral}, status=202)

    async def post_stop(self, request: web.Request) -> web.StreamResponse:
        body = await _json_body(request, PostStop)
        if isinstance(body, web.Response):
            return body
        assert isinstance(body, PostStop)
        return await self.stops.stop(request, body)

    async def stream(self, request: web.Request) -> web.StreamResponse:
        last = request.headers.get("Last-Event-ID") or request.query.get("after")
        try:
            seq = int(last) if last is not None else await self.store.last_event_seq()
        except ValueError:
            return bad_request("Last-Event-ID must be a number")
        if not -(2**63) <= seq < 2**63:  # SQLite's INTEGER range
            return bad_request("Last-Event-ID is out of range")
        response = web.StreamResponse(
            headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
        )
        await response.prepare(request)
        await response.write(b"retry: 1000\n: connected\n\n")
        idle = 0.0
        try:
            while not self._closing.is_set() and not _disconnected(request):
                events = await self.store.events_after(seq)
                for seq, kind, message in events:
                    payload = json.dumps({"kind": kind, "message": message})
                    await response.write(f"id: {seq}\nevent: message\ndata: {payload}\n\n".encode())
                if events:
                    idle = 0.0
                    continue
                await self.store.wait_for_change(POLL_SECONDS)
                idle += POLL_SECONDS
                if idle >= HEARTBEAT_SECONDS:
                    await response.write(b": keep-alive\n\n")
                    idle = 0.0
        except ConnectionResetError:
            pass
        return response


def _disconnected(request: web.Request) -> bool:
    return request.transport is None or request.transport.is_closing()
