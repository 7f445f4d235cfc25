"""Toy session ids: ``toy:{room}:{thread}`` (``main`` for the room itself), ``toy:{room}`` for a room."""

from __future__ import annotations

from workflows.contracts import ConversationKey


class ToySessionIds:
    platform = "toy"

    def session_id(self, key: ConversationKey) -> str:
        return f"toy:{key.channel}:{key.thread or 'main'}"

    def parse(self, parts: list[str]) -> ConversationKey:
        if len(parts) == 3:
            return ConversationKey(platform="toy", channel=parts[1], thread=parts[2])
        if len(parts) == 2:
            return ConversationKey(platform="toy", channel=parts[1])
        raise ValueError(f"not a toy conversation id: {':'.join(parts)!r}")
