"""Teams streaming on the wire: the ``streaminfo`` entity and what the connector's refusals mean.

A streamed reply (1:1 chats only) is a series of typing activities with a ``streaminfo``
entity (streamType "informative" or "streaming", an increasing streamSequence, and from the
second on the streamId the first answer returned), closed by a message activity whose
entity says streamType "final". botbuilder 4.17 has no model for the entity, hence this one.
"""

from __future__ import annotations

import enum
from typing import Any, ClassVar

from botbuilder.schema import Activity, Entity
from msrest.exceptions import ClientRequestError, HttpOperationError

#: Teams shows at most this much of an informative update.
INFORMATIVE_LIMIT = 1_000


class StreamInfo(Entity):
    """The ``streaminfo`` entity of a streamed activity."""

    _attribute_map: ClassVar[dict[str, dict[str, str]]] = {
        "type": {"key": "type", "type": "str"},
        "stream_id": {"key": "streamId", "type": "str"},
        "stream_type": {"key": "streamType", "type": "str"},
        "stream_sequence": {"key": "streamSequence", "type": "int"},
    }

    def __init__(self, *, stream_type: str, stream_id: str | None = None, stream_sequence: int | None = None) -> None:
        super().__init__(type="streaminfo")
        self.stream_id = stream_id
        self.stream_type = stream_type
        self.stream_sequence = stream_sequence


def typing_update(text: str, *, stream_type: str, sequence: int, stream_id: str | None) -> Activity:
    """An informative update (cut to Teams' limit) or a streaming chunk."""
    if stream_type == "informative" and len(text) > INFORMATIVE_LIMIT:
        text = text[: INFORMATIVE_LIMIT - 1] + "…"
    info = StreamInfo(stream_type=stream_type, stream_id=stream_id, stream_sequence=sequence)
    return Activity(type="typing", text=text, entities=[info])


def final_message(activity: Activity, stream_id: str) -> Activity:
    """The reply's message activity, marked as the final message that closes the stream."""
    activity.entities = [*(activity.entities or []), StreamInfo(stream_type="final", stream_id=stream_id)]
    return activity


class Refusal(enum.Enum):
    """Why the connector refused a streamed activity (as the Teams SDKs read its answers)."""

    CANCELLED = "the user pressed Stop"
    EXPIRED = "the stream ran past Teams' time limit"
    COMPLETED = "the stream was already closed"
    NOT_ALLOWED = "streaming is not allowed here"
    TRANSIENT = "a failure a later attempt may not meet (throttled, 5xx, network)"
    REJECTED = "the connector rejected the activity"


def _error_message(err: HttpOperationError) -> str:
    """The connector's ``error.message`` (the SDK deserialized its ErrorResponse), else the exception's text."""
    detail: Any = getattr(getattr(err, "error", None), "error", None)
    return str(getattr(detail, "message", None) or err)


def refusal_of(err: Exception) -> Refusal:
    if isinstance(err, ClientRequestError) or not isinstance(err, HttpOperationError):
        return Refusal.TRANSIENT
    status = getattr(getattr(err, "response", None), "status_code", None)
    if status is None or status == 429 or status >= 500:
        return Refusal.TRANSIENT
    message = _error_message(err).lower()
    if "cancel" in message:
        return Refusal.CANCELLED
    if "exceeded streaming time" in message:
        return Refusal.EXPIRED
    if "completed streamed message" in message:
        return Refusal.COMPLETED
    if status == 403:
        return Refusal.NOT_ALLOWED
    return Refusal.REJECTED


def error_text(err: Exception) -> str:
    status = getattr(getattr(err, "response", None), "status_code", None)
    detail = _error_message(err) if isinstance(err, HttpOperationError) else ""
    return f"{status or ''} {detail or err}".strip()
