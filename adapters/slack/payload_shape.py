"""The fields of a signed Slack payload that bolt and threadwork read, checked before bolt sees it.

bolt's listener matching indexes into the payload (``body["actions"][0]["action_id"]``)
and the listeners read ids and timestamps as strings. A signed payload where those
have another type would throw inside bolt (a 500 and a traceback); checked here, it
is a 400 naming the field. Everything else stays open: Slack adds fields all the time.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictStr, ValidationError

from adapters.http_body import BodyError


def _id() -> Any:
    """An optional Slack id or timestamp: no whitespace, never empty."""
    return Field(None, pattern=r"^\S+$", max_length=255)


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow")


class _Authorization(_Open):
    team_id: StrictStr | None = None
    user_id: StrictStr | None = None
    enterprise_id: StrictStr | None = None
    is_bot: StrictBool | None = None
    is_enterprise_install: StrictBool | None = None


class _Item(_Open):
    type: StrictStr | None = None
    channel: StrictStr | None = _id()
    ts: StrictStr | None = _id()


class _Event(_Open):
    """Any event: only its type is common (``channel`` or ``user`` are objects in some events)."""

    type: StrictStr = Field(min_length=1)


class _MessageEvent(_Event):
    """message and app_mention: what adapters/slack/mapping.py reads."""

    subtype: StrictStr | None = None
    user: StrictStr | None = _id()
    channel: StrictStr | None = _id()
    channel_type: StrictStr | None = None
    ts: StrictStr | None = _id()
    thread_ts: StrictStr | None = _id()
    event_ts: StrictStr | None = None
    text: StrictStr | None = None
    bot_id: StrictStr | None = None
    files: list[dict[str, Any]] | None = None


class _ReactionEvent(_Event):
    """reaction_added: what adapters/slack/incident_events.py reads."""

    user: StrictStr | None = _id()
    reaction: StrictStr | None = None
    item: _Item | None = None


EVENT_SHAPES: dict[str, type[_Event]] = {
    "message": _MessageEvent,
    "app_mention": _MessageEvent,
    "reaction_added": _ReactionEvent,
}


class _Ref(_Open):
    id: StrictStr | None = _id()
    team_id: StrictStr | None = None


class _Action(_Open):
    action_id: StrictStr = Field(min_length=1)
    block_id: StrictStr | None = None
    value: StrictStr | None = None
    action_ts: StrictStr | None = None


class _Container(_Open):
    channel_id: StrictStr | None = _id()
    message_ts: StrictStr | None = _id()
    thread_ts: StrictStr | None = _id()


class _Message(_Open):
    ts: StrictStr | None = _id()
    thread_ts: StrictStr | None = _id()


class SlackPayload(_Open):
    type: StrictStr | None = None
    team_id: StrictStr | None = None
    enterprise_id: StrictStr | None = None
    api_app_id: StrictStr | None = None
    authorizations: list[_Authorization] | None = None
    is_enterprise_install: StrictBool | StrictStr | None = None
    event: _Event | None = None
    team: _Ref | None = None
    user: _Ref | None = None
    enterprise: _Ref | StrictStr | None = None
    channel: _Ref | None = None
    container: _Container | None = None
    message: _Message | None = None
    actions: list[_Action] | None = None
    response_url: StrictStr | None = None
    trigger_id: StrictStr | None = None


def check_shape(payload: dict[str, Any]) -> None:
    """Raise BodyError(400) naming the first field of the wrong type."""
    if payload.get("type") == "event_callback" and not isinstance(payload.get("event"), dict):
        raise BodyError(400, "event: an event_callback needs an event object")
    if payload.get("type") == "block_actions" and not payload.get("actions"):
        raise BodyError(400, "actions: block_actions needs at least one action")
    _validate(SlackPayload, payload, "")
    event = payload.get("event")
    if isinstance(event, dict) and event.get("type") in EVENT_SHAPES:
        _validate(EVENT_SHAPES[event["type"]], event, "event.")


def _validate(model: type[BaseModel], data: dict[str, Any], prefix: str) -> None:
    try:
        model.model_validate(data)
    except ValidationError as err:
        first = err.errors()[0]
        raise BodyError(400, f"{prefix}{'.'.join(str(p) for p in first['loc'])}: {first['msg']}") from None
