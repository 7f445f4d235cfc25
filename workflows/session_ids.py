"""Session ids: each platform's adapter owns the codec between a ConversationKey and its id.

The id is a workflow id (``{platform}:...``), so its shape is part of every running session:
an adapter registers its codec once at import (``register_codec``) and never changes it.
An id or key of a platform no adapter registered raises ``UnknownPlatform`` with the names
that are registered, instead of being formatted as some other platform's id.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from workflows.platform_traits import UnknownPlatform

if TYPE_CHECKING:
    from workflows.contracts import ConversationKey


class SessionIdCodec(Protocol):
    """Turns a conversation into its session (workflow) id and back; ``platform`` is the id's prefix."""

    platform: str

    def session_id(self, key: ConversationKey) -> str: ...

    def parse(self, parts: list[str]) -> ConversationKey:
        """The key of an id split at ':' (``parts[0]`` is the platform); ValueError for a shape it does not know."""
        ...


_CODECS: dict[str, SessionIdCodec] = {}


def register_codec(codec: SessionIdCodec) -> None:
    """Make ``codec`` the one of its platform (registering the same codec again is a no-op)."""
    known = _CODECS.get(codec.platform)
    if known is not None and type(known) is not type(codec):
        raise ValueError(f"platform {codec.platform!r} already has a session id codec ({type(known).__name__})")
    _CODECS[codec.platform] = codec


def codec_for(platform: str) -> SessionIdCodec:
    try:
        return _CODECS[platform]
    except KeyError:
        raise UnknownPlatform(
            f"no adapter registered platform {platform!r} (registered: {', '.join(sorted(_CODECS)) or 'none'}); "
            "add its adapter to THREADWORK_ADAPTERS or the built-in list in bots/adapters.py"
        ) from None


def session_id(key: ConversationKey) -> str:
    return codec_for(key.platform).session_id(key)


def parse_session_id(value: str) -> ConversationKey:
    """The key of a session id (or channel-level id); ValueError (UnknownPlatform for an unknown prefix) otherwise."""
    parts = value.split(":")
    return codec_for(parts[0]).parse(parts)


def registered_platforms() -> list[str]:
    return sorted(_CODECS)
