"""Web chat file uploads: streamed to a staging folder, published to the upload files
(the shared data dir or an S3 bucket: adapters/storage/uploads.py), stored with the
message, delivered as a FileRef.

The worker reads the file through the same UploadFiles (adapters/webchat/upload_fetcher.py);
FileRef.url is ``webchat-uploads/{id}/{name}``, never a client-supplied name.
"""

from __future__ import annotations

import logging
import mimetypes
import re
import shutil
from pathlib import Path
from urllib.parse import quote

from aiohttp import BodyPartReader, MultipartReader, web
from aiohttp.http_exceptions import HttpProcessingError

from adapters.http_errors import bad_request
from adapters.storage.uploads import UPLOADS_DIR, UploadFiles, UploadMissing, UploadStoreUnavailable
from adapters.webchat.answers import deliver
from adapters.webchat.identity import Identities, Identity
from adapters.webchat.origin import same_origin
from adapters.webchat.store import WebChatStore, new_id
from workflows.activities.fetchers import DocumentTooLarge
from workflows.contracts import MAX_MESSAGE_CHARS, Actor, ChatMessage, ConversationKey, FileRef
from workflows.platform_port import SessionDispatcher

log = logging.getLogger(__name__)
FIELDS = {"channel", "thread", "user", "guest", "text"}
FIELD_LIMIT = 4 * MAX_MESSAGE_CHARS + 1024  # bytes of one form field (UTF-8)
CHUNK = 64 * 1024
MAX_NAME = 180
_UNSAFE = re.compile(r"[^\w.\-() ]+")
#: What aiohttp's multipart reader raises on a malformed body (ValueError covers bad boundaries and EOF).
MULTIPART_ERRORS = (ValueError, HttpProcessingError)


class Refused(Exception):
    """A bad upload; the message is the 400 reason."""


def safe_name(filename: str) -> str | None:
    """The basename of a client file name with only harmless characters (None when nothing usable is left)."""
    base = filename.replace("\\", "/").rsplit("/", 1)[-1]
    base = _UNSAFE.sub("_", base).strip().lstrip(".").strip()
    if len(base) > MAX_NAME:
        stem, dot, ext = base.rpartition(".")
        base = f"{stem[: MAX_NAME - len(ext) - 1]}.{ext}" if dot and len(ext) < 16 else base[:MAX_NAME]
    return base or None


async def _read_field(part: BodyPartReader) -> str:
    data = bytearray()
    while chunk := await part.read_chunk(8192):
        data += chunk
        if len(data) > FIELD_LIMIT:
            raise Refused(f"{part.name} is too long")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise Refused(f"{part.name} is not valid UTF-8") from None


class WebChatUploads:
    def __init__(
        self,
        store: WebChatStore,
        dispatcher: SessionDispatcher,
        identities: Identities,
        files: UploadFiles,
        max_bytes: int,
    ) -> None:
        self.store = store
        self.dispatcher = dispatcher
        self.identities = identities
        self.files = files
        self.max_bytes = max_bytes

    def add_to(self, app: web.Application) -> None:
        app.router.add_post("/webchat/api/uploads", same_origin(self.post_upload))
        app.router.add_get("/webchat/uploads/{id}/{name}", self.download)

    async def _save_file(self, part: BodyPartReader, folder: Path) -> tuple[str, int, str]:
        """Stream one file part to ``folder``; refuse it as soon as it passes the limit."""
        if not part.filename:
            raise Refused("file has no file name")
        name = safe_name(part.filename)
        if name is None:
            raise Refused(f"file name {part.filename!r} is not usable")
        folder.mkdir(parents=True, exist_ok=True)  # noqa: ASYNC240 - local disk, as the chunk writes below
        size = 0
        with (folder / name).open("wb") as out:
            while chunk := await part.read_chunk(CHUNK):
                size += len(chunk)
                if size > self.max_bytes:
                    raise Refused(f"{name}: {DocumentTooLarge(name, self.max_bytes)}")
                out.write(chunk)
        declared = part.headers.get("Content-Type", "").split(";")[0].strip()
        if not declared or declared == "application/octet-stream":
            declared = mimetypes.guess_type(name)[0] or "application/octet-stream"
        return name, size, declared

    async def _read_form(
        self, request: web.Request, folder: Path
    ) -> tuple[dict[str, str], tuple[str, int, str] | None]:
        if request.content_type != "multipart/form-data":
            raise Refused("body must be multipart/form-data")
        try:
            reader = await request.multipart()
        except (ValueError, AssertionError) as err:
            raise Refused(f"body is not valid multipart/form-data ({err})") from None
        try:
            return await self._read_parts(reader, folder)
        except MULTIPART_ERRORS as err:  # a broken body breaks while its parts are read, not only at the start
            raise Refused(f"body is not valid multipart/form-data ({type(err).__name__}: {str(err)[:120]})") from None

    async def _read_parts(
        self, reader: MultipartReader, folder: Path
    ) -> tuple[dict[str, str], tuple[str, int, str] | None]:
        fields: dict[str, str] = {}
        saved = None
        async for part in reader:
            if not isinstance(part, BodyPartReader):
                raise Refused("nested multipart bodies are not supported")
            if part.name == "file":
                if saved is not None:
                    raise Refused("only one file per upload")
                saved = await self._save_file(part, folder)
            elif part.name in FIELDS:
                fields[part.name] = await _read_field(part)
            else:
                raise Refused(f"{part.name or 'a part without a name'} is not a known field")
        return fields, saved

    async def post_upload(self, request: web.Request) -> web.Response:
        identity = self.identities.of(request)
        return self.identities.remember(await self._post_upload(request, identity), identity, request)

    async def _post_upload(self, request: web.Request, identity: Identity) -> web.Response:
        upload_id = new_id()
        folder = self.files.staging / upload_id
        try:
            fields, saved = await self._read_form(request, folder)
            channel, thread, user, caption = await self._validate(fields, saved)
        except Refused as err:
            shutil.rmtree(folder, ignore_errors=True)
            return bad_request(str(err))
        assert saved is not None
        name, size, mimetype = saved
        try:
            await self.files.publish(upload_id, name)
        except UploadStoreUnavailable as err:
            log.warning("web chat: upload %s refused: %s", upload_id, err)
            return web.json_response({"error": "the file could not be stored right now; please try again"}, status=503)
        # Membership is the server's call; the form's guest field may only volunteer to be a guest.
        guest = not identity.is_member or fields.get("guest", "").strip().lower() in ("1", "true", "on", "yes")
        user = identity.label(user)
        link = {"name": name, "url": f"/webchat/uploads/{upload_id}/{quote(name)}", "size": size, "mimetype": mimetype}
        text = caption or f"Shared {name}"
        msg = ChatMessage(
            key=ConversationKey(platform="webchat", channel=channel, thread=thread or upload_id),
            actor=Actor(id=identity.id, name=user, is_guest=guest),
            text=text,
            message_id=upload_id,
            files=[
                FileRef(
                    name=name, url=f"{UPLOADS_DIR}/{upload_id}/{name}", mimetype=mimetype, size=size, source="webchat"
                )
            ],
        )
        await self.store.add_message(
            channel=channel,
            thread=thread,
            user=user,
            text=text,
            message_id=upload_id,
            files=[link],
            handover=msg.model_dump_json(),
        )
        return await deliver(self.store, self.dispatcher, msg)

    async def _validate(
        self, fields: dict[str, str], saved: tuple[str, int, str] | None
    ) -> tuple[str, str | None, str, str]:
        channel, user = fields.get("channel", "").strip(), fields.get("user", "").strip()
        if not channel:
            raise Refused("channel is required")
        if not user:
            raise Refused("user is required")
        if len(user) > 80:
            raise Refused("user: at most 80 characters")
        caption = fields.get("text", "").strip()
        if len(caption) > MAX_MESSAGE_CHARS:
            raise Refused(f"text is {len(caption)} characters; the limit is {MAX_MESSAGE_CHARS}")
        if saved is None:
            raise Refused("file is required")
        if saved[1] == 0:
            raise Refused(f"file {saved[0]} is empty")
        if not await self.store.channel_exists(channel):
            raise Refused(f"channel {channel!r} does not exist")
        thread = fields.get("thread", "").strip() or None
        if thread is not None:
            parent = await self.store.get_message(thread)
            if parent is None or parent["channel"] != channel:
                raise Refused(f"thread {thread!r} does not exist in channel {channel!r}")
            thread = parent["thread"]  # a reply's id means its thread, as in post_message
        return channel, thread, user, caption

    async def download(self, request: web.Request) -> web.StreamResponse:
        upload_id, name = request.match_info["id"], request.match_info["name"]
        # Served as a download, never rendered: an uploaded .html must not run as this site.
        headers = {
            "Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}",
            "X-Content-Type-Options": "nosniff",
        }
        try:
            if safe_name(name) != name:
                raise UploadMissing(name)
            path = self.files.local_path(upload_id, name)
            if path is not None:
                return web.FileResponse(path, headers=headers)
            body = await self.files.read(upload_id, name, self.max_bytes + 1)
        except UploadMissing:
            raise web.HTTPNotFound(text="no such upload") from None
        mimetype = mimetypes.guess_type(name)[0] or "application/octet-stream"
        return web.Response(body=body, content_type=mimetype, headers=headers)
