"""Neutral Reply blocks -> Block Kit messages, split under Slack's limits.

Every message keeps a plain ``text`` fallback (notifications, screen readers, clients
without Block Kit). Buttons carry their target workflow and action in ``value`` so a
click can be routed without any state in the gateway.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from workflows.contracts import (
    LINK_TOKEN,
    Button,
    ButtonsBlock,
    ConversationKey,
    DividerBlock,
    FieldsBlock,
    Reply,
    TextBlock,
    plain_links,
    render_links,
)

SECTION_LIMIT = 3000  # characters of a section's text
FIELD_LIMIT = 2000  # characters of one section field
FIELDS_PER_SECTION = 10
HEADER_LIMIT = 150
BUTTON_LABEL_LIMIT = 75
BUTTONS_PER_ACTIONS = 25
VALUE_LIMIT = 2000
ACTION_ID_LIMIT = 255
BLOCKS_PER_MESSAGE = 50
TEXT_LIMIT = 40_000  # chat.postMessage truncates text beyond this


class RenderError(ValueError):
    """A reply cannot be expressed in Block Kit (e.g. a button value that is too long)."""


@dataclass
class SlackMessage:
    text: str
    blocks: list[dict[str, Any]] = field(default_factory=list)


_SLACK_USER = re.compile(r"^[UW][A-Z0-9]+$")


#: Permalinks of messages named in the reply being rendered: (channel, ts) -> URL (see ``render``).
_permalinks: ContextVar[Mapping[tuple[str, str], str] | None] = ContextVar("slack_permalinks", default=None)


@contextmanager
def _using_permalinks(permalinks: Mapping[tuple[str, str], str] | None) -> Iterator[None]:
    token = _permalinks.set(permalinks or {})
    try:
        yield
    finally:
        _permalinks.reset(token)


def _channel_link(key: ConversationKey, label: str) -> str:
    """A message (or thread) as its permalink when known; a channel as ``<#C…>``.

    Slack draws ``<#C…>`` as the channel's current name, so a renamed or suffixed channel still reads right.
    """
    if key.platform != "slack":
        return f"#{label}"
    known = _permalinks.get() or {}
    url = known.get((key.channel, key.thread)) if key.thread else None
    return f"<{url}|{label}>" if url else f"<#{key.channel}>"


def message_links(reply: Reply) -> list[ConversationKey]:
    """Slack messages and threads the reply links to (their permalinks are looked up before ``render``)."""
    text = json.dumps(reply.model_dump(mode="json"), ensure_ascii=False)
    keys: list[ConversationKey] = []
    for m in LINK_TOKEN.finditer(text):
        if m.group(1) != "conv":
            continue
        try:
            key = ConversationKey.from_session_id(m.group(2))
        except ValueError:
            continue
        if key.platform == "slack" and key.thread and key not in keys:
            keys.append(key)
    return keys


def _user_link(user_id: str, label: str) -> str:
    return f"<@{user_id}>" if _SLACK_USER.match(user_id) else f"@{label}"


def escape(text: str) -> str:
    """Slack's mrkdwn control characters (the neutral text is plain), then its conversation and user links."""
    escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return render_links(escaped, _channel_link, _user_link)


def split_text(text: str, limit: int) -> list[str]:
    """Cut ``text`` into pieces of at most ``limit`` characters, preferring line then word breaks."""
    pieces: list[str] = []
    rest = text
    while len(rest) > limit:
        cut = rest.rfind("\n", 0, limit + 1)
        if cut < limit // 2:
            cut = rest.rfind(" ", 0, limit + 1)
        if cut < limit // 2:
            cut = limit
        pieces.append(rest[:cut])
        rest = rest[cut:].lstrip("\n ")
    if rest or not pieces:
        pieces.append(rest)
    return pieces


def escaped_pieces(text: str, limit: int) -> list[str]:
    """``text`` escaped for mrkdwn, in pieces of at most ``limit`` characters (entities kept whole)."""
    out: list[str] = []
    for piece in split_text(text, limit):
        out.extend(_fit_escaped(piece, limit))
    return out


def _fit_escaped(piece: str, limit: int) -> list[str]:
    escaped = escape(piece)
    if len(escaped) <= limit:
        return [escaped]
    # Escaping lengthened it: split the raw piece finer (each part is shorter, so this ends).
    raw_limit = max(limit * len(piece) // len(escaped), 1)
    return [part for sub in split_text(piece, raw_limit) for part in _fit_escaped(sub, limit)]


def _sections(text: str) -> list[dict[str, Any]]:
    return [
        {"type": "section", "text": {"type": "mrkdwn", "text": part or " "}}
        for part in escaped_pieces(text, SECTION_LIMIT)
    ]


def encode_button_value(button: Button) -> str:
    value = json.dumps({"w": button.workflow_id, "a": button.action_id, "v": button.value}, separators=(",", ":"))
    if len(value) > VALUE_LIMIT:
        raise RenderError(
            f"button {button.label!r}: workflow id, action and value exceed Slack's {VALUE_LIMIT} characters"
        )
    return value


def decode_button_value(value: str) -> tuple[str, str, str]:
    """(workflow_id, action_id, value) of a button rendered here; ValueError for anything else."""
    try:
        data = json.loads(value)
    except (TypeError, json.JSONDecodeError) as err:
        raise ValueError("the button value is not one of threadwork's") from err
    if not isinstance(data, dict) or not isinstance(data.get("w"), str) or not isinstance(data.get("a"), str):
        raise ValueError("the button value has no target workflow and action")
    return data["w"], data["a"], str(data.get("v", ""))


def _button(button: Button, action_id: str) -> dict[str, Any]:
    element: dict[str, Any] = {
        "type": "button",
        "text": {"type": "plain_text", "text": plain_links(button.label)[:BUTTON_LABEL_LIMIT] or "…", "emoji": True},
        "action_id": action_id[:ACTION_ID_LIMIT],
        "value": encode_button_value(button),
    }
    if button.style != "default":
        element["style"] = button.style
    return element


def _render_block(block: Any, used_action_ids: set[str]) -> list[dict[str, Any]]:
    if isinstance(block, TextBlock):
        if block.style == "heading" and len(block.text) <= HEADER_LIMIT and block.text.strip():
            return [{"type": "header", "text": {"type": "plain_text", "text": plain_links(block.text), "emoji": True}}]
        if block.style == "context":
            return [
                {"type": "context", "elements": [{"type": "mrkdwn", "text": part or " "}]}
                for part in escaped_pieces(block.text, SECTION_LIMIT)
            ]
        if block.style == "heading":
            return [
                {"type": "section", "text": {"type": "mrkdwn", "text": f"*{part}*"}}
                for part in escaped_pieces(block.text, SECTION_LIMIT - 2)
            ]
        return _sections(block.text)
    if isinstance(block, FieldsBlock):
        fields = [
            {"type": "mrkdwn", "text": f"*{escape(label)}*\n{escape(value)}"[:FIELD_LIMIT]}
            for label, value in block.fields
        ]
        return [
            {"type": "section", "fields": fields[i : i + FIELDS_PER_SECTION]}
            for i in range(0, len(fields), FIELDS_PER_SECTION)
        ]
    if isinstance(block, ButtonsBlock):
        elements = []
        for button in block.buttons:
            action_id = button.action_id
            n = 1
            while action_id in used_action_ids:  # Slack wants them unique within a message
                n += 1
                action_id = f"{button.action_id}#{n}"
            used_action_ids.add(action_id)
            elements.append(_button(button, action_id))
        return [
            {"type": "actions", "elements": elements[i : i + BUTTONS_PER_ACTIONS]}
            for i in range(0, len(elements), BUTTONS_PER_ACTIONS)
        ]
    if isinstance(block, DividerBlock):
        return [{"type": "divider"}]
    raise RenderError(f"unknown block type {type(block).__name__}")


def _fallback(blocks: list[dict[str, Any]]) -> str:
    """Plain text of a part of a split reply (its own notification text)."""
    lines: list[str] = []
    for block in blocks:
        if "text" in block:
            lines.append(block["text"]["text"])
        for f in block.get("fields", []):
            lines.append(f["text"].replace("*", "", 2))
        for el in block.get("elements", []):
            if el.get("type") == "mrkdwn":
                lines.append(el["text"])
    return "\n".join(lines)


def render(reply: Reply, permalinks: Mapping[tuple[str, str], str] | None = None) -> list[SlackMessage]:
    """One or more Slack messages (in order) that together show ``reply``.

    ``permalinks`` maps (channel, ts) of messages the reply links to (``message_links``) to their
    ``chat.getPermalink`` URL; a message without one is linked as its channel.
    """
    with _using_permalinks(permalinks):
        return _render(reply)


def _render(reply: Reply) -> list[SlackMessage]:
    used: set[str] = set()
    blocks: list[dict[str, Any]] = []
    for block in reply.blocks:
        blocks.extend(_render_block(block, used))
    if not blocks:
        blocks = _sections(reply.text)
    chunks = [blocks[i : i + BLOCKS_PER_MESSAGE] for i in range(0, len(blocks), BLOCKS_PER_MESSAGE)]
    if len(chunks) == 1:
        return [SlackMessage(text=escape(reply.text)[:TEXT_LIMIT], blocks=chunks[0])]
    return [SlackMessage(text=_fallback(chunk)[:TEXT_LIMIT] or " ", blocks=chunk) for chunk in chunks]
