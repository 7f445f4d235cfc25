"""The conversation reference a worker last built per conversation, kept for the next post.

A session hands its stored reference (a dict) to every post; msrest turning it into a
ConversationReference and the posted message's reference back into a dict was about a fifth
of a Teams post's CPU. The memo answers from the last build when the dict and the service URL
it was built with are equal. Readers share what it returns and must not change it.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

from botbuilder.schema import ConversationReference

from adapters.teams.references import reference_for
from workflows.contracts import ConversationKey

#: Conversations remembered; an evicted one is built again at its next post.
MAX_REFERENCES = 1024


class ReferenceMemo:
    def __init__(self, size: int = MAX_REFERENCES) -> None:
        self.size = size
        self._built: OrderedDict[str, tuple[Any, str | None, ConversationReference, dict[str, Any]]] = OrderedDict()

    def get(
        self, key: ConversationKey, context: dict[str, Any] | None, service_url: str | None
    ) -> tuple[ConversationReference, dict[str, Any]]:
        """The reference to post into ``key`` (references.reference_for) and its serialized form."""
        name = key.session_id()
        built = self._built.get(name)
        if built is not None and built[0] == context and built[1] == service_url:
            self._built.move_to_end(name)
            return built[2], built[3]
        reference = reference_for(key, context, service_url)
        serialized = reference.serialize()
        self._built[name] = (context, service_url, reference, serialized)
        while len(self._built) > self.size:
            self._built.popitem(last=False)
        return reference, serialized
