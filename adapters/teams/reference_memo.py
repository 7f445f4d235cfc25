"""The conversation reference a worker last built per conversation, kept for the next post.

A session hands its stored reference (a dict) to every post; msrest turning it into a
ConversationReference and the posted message's reference back into a dict was about a fifth
of a Teams post's CPU. The stored reference is the last inbound message's, so it changes with
every message in two fields only: ``activityId`` (the message answered) and ``user`` (its
sender). The memo keeps the rest, built once per conversation while it is unchanged, and the
senders it has seen there, and puts the two together for each post. What it returns equals a
fresh build (references.reference_for) field for field. Readers share it and must not change it.
"""

from __future__ import annotations

import copy
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from botbuilder.schema import ChannelAccount, ConversationReference

from adapters.teams.references import reference_for
from workflows.contracts import ConversationKey

#: Conversations remembered; an evicted one is built again at its next post.
MAX_REFERENCES = 1024
#: Senders remembered per conversation (a busy channel thread has more; the others are built again).
MAX_SENDERS = 16
#: The fields of a stored reference that change with every inbound message.
PER_MESSAGE = ("activityId", "user")


@dataclass
class _Built:
    rest: dict[str, Any] | None
    service_url: str | None
    reference: ConversationReference
    serialized: dict[str, Any]
    #: Whether the reference is the stored one (its conversation), so the per-message fields apply.
    from_context: bool
    senders: OrderedDict[str, tuple[dict[str, Any], ChannelAccount, dict[str, Any]]] = field(
        default_factory=OrderedDict
    )


class ReferenceMemo:
    def __init__(self, size: int = MAX_REFERENCES) -> None:
        self.size = size
        self._built: OrderedDict[str, _Built] = OrderedDict()

    def get(
        self, key: ConversationKey, context: dict[str, Any] | None, service_url: str | None
    ) -> tuple[ConversationReference, dict[str, Any]]:
        """The reference to post into ``key`` (references.reference_for) and its serialized form."""
        name = key.session_id()
        rest = {k: v for k, v in context.items() if k not in PER_MESSAGE} if context else None
        built = self._built.get(name)
        if built is not None and built.rest == rest and built.service_url == service_url:
            self._built.move_to_end(name)
        else:
            reference = reference_for(key, rest, service_url)
            # The same rule as reference_for: the stored reference is used when it is this conversation's.
            from_context = isinstance(rest, dict) and (rest.get("conversation") or {}).get("id") == key.channel
            built = _Built(rest, service_url, reference, reference.serialize(), from_context)
            self._built[name] = built
            while len(self._built) > self.size:
                self._built.popitem(last=False)
        if not built.from_context or context is None:
            return built.reference, built.serialized
        return self._for_message(built, context)

    def _for_message(self, built: _Built, context: dict[str, Any]) -> tuple[ConversationReference, dict[str, Any]]:
        reference = copy.copy(built.reference)  # shallow: the conversation and bot stay shared
        serialized = dict(built.serialized)
        activity_id = context.get("activityId")
        if activity_id is not None:
            reference.activity_id = activity_id
            serialized["activityId"] = activity_id
        user = context.get("user")
        if user is not None:
            reference.user, serialized["user"] = self._sender(built, user)
        return reference, serialized

    def _sender(self, built: _Built, user: Any) -> tuple[ChannelAccount, dict[str, Any]]:
        sender_id = str(user.get("id")) if isinstance(user, dict) else repr(user)
        seen = built.senders.get(sender_id)
        if seen is not None and seen[0] == user:
            built.senders.move_to_end(sender_id)
            return seen[1], seen[2]
        account = ChannelAccount().deserialize(copy.deepcopy(user))
        serialized = account.serialize()
        built.senders[sender_id] = (user, account, serialized)
        while len(built.senders) > MAX_SENDERS:
            built.senders.popitem(last=False)
        return account, serialized
