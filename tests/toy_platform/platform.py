"""The toy ChatPlatform: every call is recorded in memory, in order, for the test to read."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

from workflows.contracts import ConversationKey, CreatedChannel, MessageRef, Reply, plain_links


@dataclass
class ToyPost:
    key: ConversationKey
    text: str
    message_id: str
    idempotency_key: str | None = None
    updates: list[str] = field(default_factory=list)


class ToyPlatform:
    name = "toy"

    def __init__(self) -> None:
        self.posts: list[ToyPost] = []
        self.rooms: list[CreatedChannel] = []
        self.pinned: list[str] = []
        self.private: list[tuple[str, str]] = []
        self._ids = itertools.count(1)

    def texts(self, room: str, thread: str | None = None) -> list[str]:
        """What the room (or one thread of it) shows now: posts in order, each as last updated."""
        shown = [p for p in self.posts if p.key.channel == room and p.key.thread == thread]
        return [p.updates[-1] if p.updates else p.text for p in shown]

    async def post(
        self,
        key: ConversationKey,
        reply: Reply,
        *,
        idempotency_key: str | None = None,
        context: dict[str, Any] | None = None,
    ) -> MessageRef:
        for post in self.posts:  # a retried activity posts once
            if idempotency_key and post.idempotency_key == idempotency_key:
                return MessageRef(key=key, message_id=post.message_id)
        post = ToyPost(key, plain_links(reply.text), f"m{next(self._ids)}", idempotency_key)
        self.posts.append(post)
        return MessageRef(key=key, message_id=post.message_id)

    async def update(self, ref: MessageRef, reply: Reply) -> None:
        for post in self.posts:
            if post.message_id == ref.message_id:
                post.updates.append(plain_links(reply.text))

    async def create_channel(
        self, name: str, *, topic: str = "", members: list[str] | None = None, like: ConversationKey
    ) -> CreatedChannel:
        room = CreatedChannel(platform="toy", workspace=like.workspace, channel=name, name=name)
        self.rooms.append(room)
        return room

    async def set_topic(self, key: ConversationKey, topic: str) -> None:
        """Toy rooms have no topic."""

    async def resolve_members(self, ids: list[str], *, like: ConversationKey) -> list[str]:
        return ids

    async def pin(self, ref: MessageRef) -> None:
        self.pinned.append(ref.message_id)

    async def send_private(self, key: ConversationKey, user_id: str, text: str) -> None:
        self.private.append((user_id, text))
