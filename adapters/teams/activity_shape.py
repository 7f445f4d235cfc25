"""The fields of an inbound activity that threadwork reads, checked before botbuilder sees it.

msrest deserializes leniently (``conversation.id`` may stay an int, ``from`` may be
missing) or raises DeserializationError deep inside CloudAdapter.process, where it used
to become a 500 through on_turn_error. Checking the shape first makes every such body
a 400 with the field that is wrong, and leaves on_turn_error to real bugs.
"""

from __future__ import annotations

from typing import Any

from botbuilder.schema import Activity
from botbuilder.schema.teams import TeamsChannelData
from botframework.connector import Channels
from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictStr, ValidationError, field_validator

from adapters.http_body import BodyError


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow")


class _Account(_Open):
    id: StrictStr = Field(min_length=1)
    name: StrictStr | None = None
    aadObjectId: StrictStr | None = None
    role: StrictStr | None = None


class _Conversation(_Open):
    # Bot Framework ids are printable ASCII; botbuilder sends this one in an HTTP header.
    id: StrictStr = Field(min_length=1, max_length=1024, pattern=r"^[\x21-\x7e]+$")
    tenantId: StrictStr | None = None
    conversationType: StrictStr | None = None
    isGroup: StrictBool | None = None
    name: StrictStr | None = None


class _Tenant(_Open):
    id: StrictStr | None = None


class _ChannelData(_Open):
    tenant: _Tenant | None = None


class _Mentioned(_Open):
    id: StrictStr | None = None


class _Entity(_Open):
    type: StrictStr | None = None
    mentioned: _Mentioned | None = None
    text: StrictStr | None = None


class _Attachment(_Open):
    contentType: StrictStr | None = None
    name: StrictStr | None = None
    content: Any = None

    @field_validator("content")
    @classmethod
    def _download(cls, content: Any) -> Any:
        if isinstance(content, dict):
            for key in ("downloadUrl", "uniqueId", "fileType"):
                if content.get(key) is not None and not isinstance(content[key], str):
                    raise ValueError(f"{key} must be a string")
        return content


class ActivityShape(_Open):
    type: StrictStr = Field(min_length=1)
    id: StrictStr | None = None
    serviceUrl: StrictStr = Field(min_length=1, pattern=r"^https?://[^\s/]+")
    channelId: StrictStr | None = None
    conversation: _Conversation
    from_: _Account = Field(alias="from")
    recipient: _Account | None = None
    channelData: _ChannelData | None = None
    text: StrictStr | None = None
    name: StrictStr | None = None
    replyToId: StrictStr | None = None
    entities: list[_Entity] | None = None
    attachments: list[_Attachment] | None = None
    membersAdded: list[_Account] | None = None
    membersRemoved: list[_Account] | None = None


def _explain(err: ValidationError) -> str:
    first = err.errors()[0]
    where = ".".join(str(p) for p in first["loc"]).replace("from_", "from") or "activity"
    msg = "is required" if first["type"] == "missing" else first["msg"]
    more = f" (and {err.error_count() - 1} more)" if err.error_count() > 1 else ""
    return f"activity.{where}: {msg}{more}"


def check_activity(body: dict[str, Any]) -> tuple[ActivityShape, Activity]:
    """Raise BodyError(400) naming the first wrong field; else the checked fields and botbuilder's Activity
    (deserialized here once: the route hands it to the adapter instead of the body)."""
    try:
        shape = ActivityShape.model_validate(body)
    except ValidationError as err:
        raise BodyError(400, _explain(err)) from None
    if (
        body.get("channelId") == Channels.ms_teams
        and body["type"] == "conversationUpdate"
        and body.get("channelData") is None
    ):
        # TeamsActivityHandler reads channelData.team of every Teams conversationUpdate.
        raise BodyError(400, "activity.channelData: a Teams conversationUpdate needs channelData")
    try:
        activity = Activity().deserialize(body)
        if body.get("channelId") == Channels.ms_teams and body.get("channelData") is not None:
            TeamsChannelData().deserialize(body["channelData"])  # as TeamsActivityHandler will
    except ValueError as err:  # msrest/azure-core DeserializationError
        raise BodyError(400, f"activity cannot be deserialized: {str(err)[:200]}") from None
    return shape, activity
