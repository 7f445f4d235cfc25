"""What the core may assume about a chat platform, declared by its adapter.

Workflows decide from these records (whether a post runs as a local activity, whether a
channel-level post starts a thread, what an incident channel may be called) instead of
from platform names. They travel in the workflow input (``SessionConfig.platforms``,
``ChildWorkflowInput.platforms``), so a replay decides exactly as the first run did.
"""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict, Field


class ChannelNameRule(BaseModel):
    """What a conversation the bot opens (an incident channel) may be called."""

    model_config = ConfigDict(frozen=True)

    #: Longest name; also kept short enough to stay readable in every sidebar.
    max_length: int = Field(40, ge=8)
    lowercase: bool = True
    #: A regex character class (without brackets) of the characters allowed besides '-'.
    allowed: str = "a-z0-9_"

    def clean(self, text: str) -> str:
        """``text`` as allowed characters, runs of anything else as one '-'."""
        text = text.lower() if self.lowercase else text
        slug = re.sub(f"[^{self.allowed}]+", "-", text).strip("-_")
        return re.sub(r"-{2,}", "-", slug)


#: The rule every platform had before traits: Slack's characters, 40 at most.
DEFAULT_CHANNEL_NAMES = ChannelNameRule(max_length=40)


class PlatformTraits(BaseModel):
    """One platform's behaviour as the workflows see it (each adapter declares its own)."""

    model_config = ConfigDict(frozen=True)

    name: str
    #: Human name in user-facing notes ("Slack was unreachable for 3 min").
    display_name: str = ""
    #: A post at channel level starts a thread the bot can answer in (documents continue there).
    threads: bool = False
    #: Posts are local writes (a database): run them as local activities, no retry window.
    local_delivery: bool = False
    #: ``send_private`` reaches only its user (else the adapter falls back to a visible post).
    private_messages: bool = True
    #: ``pin`` does something (else it is a documented no-op).
    pins: bool = False
    #: How the bot names the conversations it opens (incident channels).
    channel_names: ChannelNameRule = DEFAULT_CHANNEL_NAMES
    #: How reply text is marked up: "markdown" (web chat, Teams) or "mrkdwn" (Slack); adapters escape.
    markup: str = "markdown"

    def label(self) -> str:
        return self.display_name or self.name


class UnknownPlatform(ValueError):
    """A platform no registered adapter declares: a configuration error, said plainly."""


#: What inputs recorded before traits travelled in them meant (their histories must replay
#: unchanged). New platforms are never looked up here: their traits come from their adapter.
LEGACY_TRAITS: dict[str, PlatformTraits] = {
    "webchat": PlatformTraits(
        name="webchat", display_name="the web chat", threads=True, local_delivery=True, private_messages=False
    ),
    "slack": PlatformTraits(name="slack", display_name="Slack", threads=True, pins=True, markup="mrkdwn"),
    "teams": PlatformTraits(name="teams", display_name="Teams"),
}


def traits_for(platforms: dict[str, PlatformTraits], name: str) -> PlatformTraits:
    """The traits of ``name`` from a workflow input; inputs recorded before traits fall back to LEGACY_TRAITS."""
    found = platforms.get(name) or LEGACY_TRAITS.get(name)
    if found is None:
        known = ", ".join(sorted({*platforms, *LEGACY_TRAITS}))
        raise UnknownPlatform(
            f"platform {name!r} is not declared by any adapter in this workflow's input (declared: {known})"
        )
    return found
