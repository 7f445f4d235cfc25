"""Slack session ids: ``slack:{team}:{channel}:{thread_ts}`` (``dm``: a direct message); ``slack:{team}:{channel}``."""

from __future__ import annotations

from workflows.contracts import ConversationKey


class SlackSessionIds:
    platform = "slack"

    def session_id(self, key: ConversationKey) -> str:
        return f"slack:{key.workspace}:{key.channel}:{key.thread or 'dm'}"

    def parse(self, parts: list[str]) -> ConversationKey:
        if len(parts) == 4:
            return ConversationKey(platform="slack", workspace=parts[1], channel=parts[2], thread=parts[3])
        if len(parts) == 3:  # a channel-level key ("slack:T1:C1") for event posts
            return ConversationKey(platform="slack", workspace=parts[1], channel=parts[2])
        raise ValueError(f"not a Slack conversation id: {':'.join(parts)!r}")
