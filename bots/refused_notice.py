"""Telling a sender that a message accepted earlier was refused when its session finally saw it.

A message the inbound queue held through an outage can still be refused later (its
conversation ended meanwhile, Temporal rejects it). The sender was told "catching up"
or nothing, so silence would read as "lost": they get the reason, privately where the
platform can, else in the thread with a mention.
"""

from __future__ import annotations

from bots.queued_dispatch import RefusedNotice
from workflows.contracts import ChatMessage, Reply, user_mention
from workflows.platform_port import PlatformError, PlatformRegistry

SNIPPET = 60


def _snippet(text: str) -> str:
    line = " ".join(text.split())
    return line if len(line) <= SNIPPET else line[: SNIPPET - 1] + "\u2026"


def refused_notice(registry: PlatformRegistry) -> RefusedNotice:
    async def tell(msg: ChatMessage, reason: str) -> None:
        platform = registry.get(msg.key.platform)
        what = f'your message "{_snippet(msg.text)}"' if msg.text.strip() else "your message"
        text = f"I couldn't take {what} after all: {reason}"
        try:
            await platform.send_private(msg.key, msg.actor.id, text)
        except PlatformError:  # no private messages here (the web chat): say it in the thread
            reply = Reply(text=f"{user_mention(msg.actor)}: {text}")
            await platform.post(msg.key, reply, idempotency_key=f"refused:{msg.key.session_id()}:{msg.message_id}")

    return tell
