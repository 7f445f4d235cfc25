"""Teams session ids: ``teams:{tenant}:{conversation id}`` (conversation ids may contain ':')."""

from __future__ import annotations

from workflows.contracts import ConversationKey


class TeamsSessionIds:
    platform = "teams"

    def session_id(self, key: ConversationKey) -> str:
        return f"teams:{key.workspace}:{key.channel}"

    def parse(self, parts: list[str]) -> ConversationKey:
        if len(parts) >= 3:
            return ConversationKey(platform="teams", workspace=parts[1], channel=":".join(parts[2:]))
        raise ValueError(f"not a Teams conversation id: {':'.join(parts)!r}")
