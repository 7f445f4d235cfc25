"""Helpers for the model's tools in the web chat: find a confirmation, its buttons, click it."""

from __future__ import annotations

from tests.support.helpers import eventually
from tests.support.stack import Stack


def button(message: dict, label: str) -> dict:
    for block in message["blocks"]:
        if block["type"] == "buttons":
            for b in block["buttons"]:
                if b["label"] == label:
                    return b
    raise AssertionError(f"no {label!r} button in {message['text']!r}")


def labels(message: dict) -> list[str]:
    return [b["label"] for blk in message["blocks"] if blk["type"] == "buttons" for b in blk["buttons"]]


async def wait_message(stack: Stack, thread: str | None, starts: str, channel: str = "general") -> dict:
    msgs = await eventually(
        lambda: stack.bot_messages(thread, channel),
        lambda ms: any(m["text"].startswith(starts) for m in ms),
        what=starts,
    )
    return [m for m in msgs if m["text"].startswith(starts)][-1]


async def decide(stack: Stack, question: dict, label: str, user: str) -> dict:
    """``user`` clicks Approve / Cancel (or Reject) on an approval message; the action's answer."""
    b = button(question, label)
    resp = await stack.click(question, b["action_id"], user, b["value"])
    assert resp.status_code == 202, resp.text
    return resp.json()
