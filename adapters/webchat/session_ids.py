"""Web chat session ids: ``webchat:{channel}:{thread}`` (``main``: the channel's own thread); ``webchat:{channel}``."""

from __future__ import annotations

from workflows.contracts import ConversationKey


class WebChatSessionIds:
    platform = "webchat"

    def session_id(self, key: ConversationKey) -> str:
        return f"webchat:{key.channel}:{key.thread or 'main'}"

    def parse(self, parts: list[str]) -> ConversationKey:
        if len(parts) == 3:
            return ConversationKey(platform="webchat", channel=parts[1], thread=parts[2])
        if len(parts) == 2:  # a channel-level key ("webchat:documents") for event posts
            return ConversationKey(platform="webchat", channel=parts[1])
        raise ValueError(f"not a web chat conversation id: {':'.join(parts)!r}")
