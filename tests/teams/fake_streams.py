"""Teams streaming as the Bot Connector enforces it, for tests/teams/fake_connector.py.

What the fake checks (learn.microsoft.com, "Stream bot messages", and the SDKs' handling of
its error codes): streaming only in 1:1 chats and one stream per chat at a time; a stream
starts with a typing activity carrying a ``streaminfo`` entity and no streamId, and the
answer's id is the streamId every later activity names; informative updates are at most
1,000 characters and come before any text; each streaming chunk carries ALL of the
earlier text (it starts with the previous chunk's text) and a larger streamSequence; a
message activity with streamType "final" closes the stream and becomes the one message.
The user's Stop (``press_stop``) cancels the stream: the next activity for it gets 403
ContentStreamNotAllowed "Content stream was cancelled by user.". A stream older than
``time_limit`` seconds is refused as Teams refuses one past its two minutes.
"""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass, field
from typing import Any

INFORMATIVE_LIMIT = 1_000

CANCELLED = "Content stream was cancelled by user."
EXPIRED = "Content stream finished due to exceeded streaming time."
COMPLETED = "Content stream is not allowed on an already completed streamed message."
NOT_ALLOWED = "Content stream is not allowed for this conversation."
ANOTHER_ACTIVE = "Content stream is not allowed while another stream is active in this chat."


def stream_info(body: dict[str, Any]) -> dict[str, Any] | None:
    for entity in body.get("entities") or []:
        if isinstance(entity, dict) and entity.get("type") == "streaminfo":
            return entity
    return None


def personal(conversation_id: str) -> bool:
    """Teams gives 1:1 chats ids like ``a:...``; group chats and channels are ``19:...@thread...``."""
    return "@thread" not in conversation_id


@dataclass
class Stream:
    stream_id: str
    conversation_id: str
    started: float
    state: str = "streaming"  # streaming | final | cancelled
    sequence: int = 0
    #: The text of the last streaming chunk (what the user sees while it streams).
    text: str = ""
    informative: list[str] = field(default_factory=list)
    chunks: list[str] = field(default_factory=list)
    #: The closing message activity (type message, streamType final), when there is one.
    final: dict[str, Any] | None = None
    #: PUT updates of the finished message.
    updates: list[dict[str, Any]] = field(default_factory=list)


class Refused(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.body = {"error": {"code": code, "message": message}}


@dataclass
class StreamBook:
    """Every stream the bot started, by streamId; refusals are counted per error message."""

    time_limit: float = 120.0
    #: False: this tenant or client may not stream (every new stream is refused with 403).
    allowed: bool = True
    streams: dict[str, Stream] = field(default_factory=dict)
    refusals: list[str] = field(default_factory=list)
    _ids: Any = field(default_factory=lambda: itertools.count(1))

    def accept(self, conversation_id: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        """A POSTed activity with a streaminfo entity: (status, answer body)."""
        try:
            return self._accept(conversation_id, body, stream_info(body) or {})
        except Refused as refusal:
            self.refusals.append(refusal.body["error"]["message"])
            return refusal.status, refusal.body

    def _accept(self, conversation_id: str, body: dict[str, Any], info: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        kind = info.get("streamType")
        text = body.get("text") or ""
        if kind == "informative" and len(text) > INFORMATIVE_LIMIT:
            raise Refused(
                400, "BadRequest", f"Informative update of {len(text)} characters (at most {INFORMATIVE_LIMIT})."
            )
        stream_id = info.get("streamId")
        if not stream_id:
            return self._start(conversation_id, body, info, kind, text)
        stream = self._open(conversation_id, stream_id)
        if kind == "final":
            if body.get("type") != "message":
                raise Refused(400, "BadRequest", "A final stream activity must be a message.")
            stream.state = "final"
            stream.final = body
            return 201, {}
        if body.get("type") != "typing":
            raise Refused(400, "BadRequest", "Stream updates are typing activities.")
        sequence = self._next_sequence(stream, info)
        if kind == "informative":
            if stream.text:
                raise Refused(400, "BadRequest", "Informative updates are not allowed after streaming text started.")
            stream.informative.append(text)
        elif kind == "streaming":
            if not text.startswith(stream.text):
                raise Refused(400, "BadRequest", "A streamed chunk must carry all of the previously streamed text.")
            stream.text = text
            stream.chunks.append(text)
        else:
            raise Refused(400, "BadRequest", f"Unknown streamType {kind!r}.")
        stream.sequence = sequence  # only an accepted activity moves the stream on
        return 201, {}

    def _start(
        self, conversation_id: str, body: dict[str, Any], info: dict[str, Any], kind: Any, text: str
    ) -> tuple[int, dict[str, Any]]:
        if body.get("type") != "typing" or kind not in ("informative", "streaming"):
            raise Refused(400, "BadRequest", "A stream starts with a typing activity (informative or streaming).")
        if not self.allowed or not personal(conversation_id):
            raise Refused(403, "ContentStreamNotAllowed", NOT_ALLOWED)
        if any(
            s.conversation_id == conversation_id and s.state == "streaming" and not self._expired(s)
            for s in self.streams.values()
        ):
            raise Refused(403, "ContentStreamNotAllowed", ANOTHER_ACTIVE)
        if info.get("streamSequence") != 1:
            raise Refused(400, "BadRequest", "The first stream activity has streamSequence 1.")
        stream = Stream(
            stream_id=f"stream-{next(self._ids)}", conversation_id=conversation_id, started=time.monotonic()
        )
        stream.sequence = 1
        if kind == "informative":
            stream.informative.append(text)
        else:
            stream.text = text
            stream.chunks.append(text)
        self.streams[stream.stream_id] = stream
        return 201, {"id": stream.stream_id}

    def _open(self, conversation_id: str, stream_id: str) -> Stream:
        stream = self.streams.get(stream_id)
        if stream is None or stream.conversation_id != conversation_id:
            raise Refused(400, "BadRequest", f"No stream {stream_id!r} in this conversation.")
        if stream.state == "cancelled":
            raise Refused(403, "ContentStreamNotAllowed", CANCELLED)
        if stream.state == "final":
            raise Refused(400, "BadRequest", COMPLETED)
        if self._expired(stream):
            raise Refused(403, "ContentStreamNotAllowed", EXPIRED)
        return stream

    def _expired(self, stream: Stream) -> bool:
        return time.monotonic() - stream.started > self.time_limit

    @staticmethod
    def _next_sequence(stream: Stream, info: dict[str, Any]) -> int:
        sequence = info.get("streamSequence")
        if not isinstance(sequence, int) or sequence <= stream.sequence:
            raise Refused(400, "BadRequest", f"streamSequence {sequence!r} does not follow {stream.sequence}.")
        return sequence

    def update(self, conversation_id: str, activity_id: str, body: dict[str, Any]) -> bool:
        """A PUT on a stream's message: allowed once it no longer streams. False: not a stream id."""
        stream = self.streams.get(activity_id)
        if stream is None or stream.conversation_id != conversation_id:
            return False
        if stream.state == "streaming" and not self._expired(stream):
            raise Refused(400, "BadRequest", "A message that is still streaming cannot be updated.")
        if not stream.chunks and stream.final is None:
            raise Refused(404, "NotFound", "Informative updates leave no message to update.")
        stream.updates.append(body)
        return True

    def press_stop(self, conversation_id: str) -> Stream:
        """The user pressed Stop on the stream running in that chat."""
        [stream] = [s for s in self.streams.values() if s.conversation_id == conversation_id and s.state == "streaming"]
        stream.state = "cancelled"
        return stream

    def in_conversation(self, conversation_id: str) -> list[Stream]:
        return [s for s in self.streams.values() if s.conversation_id == conversation_id]
