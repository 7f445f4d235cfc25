"""The Adapter protocol: one chat platform, as the gateway and the worker start it.

A platform is one package under adapters/ (or any importable module) with a class like
this, plus one line in bots/adapters.py or in THREADWORK_ADAPTERS. Adapters satisfy the
protocol structurally; they never import bots/. docs/architecture.md, "Adding a platform".
"""

from __future__ import annotations

from typing import ClassVar, Protocol

from aiohttp import web

from adapters.context import AdapterContext
from adapters.settings import AdapterSettings
from workflows.activities.fetchers import Fetcher
from workflows.platform_port import ChatPlatform, SessionDispatcher
from workflows.platform_traits import PlatformTraits
from workflows.session_ids import SessionIdCodec


class Adapter(Protocol):
    #: The platform's name: ConversationKey.platform and the prefix of its session ids.
    name: ClassVar[str]
    #: What the workflows may assume about it (travels in workflow inputs).
    traits: ClassVar[PlatformTraits]
    #: ConversationKey <-> session id, registered when the adapter is loaded.
    session_ids: ClassVar[SessionIdCodec]
    #: Its own settings (read from the environment; values set on the process's Settings win).
    settings_model: ClassVar[type[AdapterSettings]]

    @classmethod
    def enabled(cls, settings: AdapterSettings) -> bool:
        """Whether these settings ask for this platform (e.g. its credentials are set)."""
        ...

    def __init__(self, settings: AdapterSettings, context: AdapterContext) -> None: ...

    async def start(self) -> ChatPlatform:
        """Open what it needs (clients, stores) and answer the ChatPlatform the worker's activities call."""
        ...

    def mount(self, app: web.Application, dispatcher: SessionDispatcher) -> None:
        """Add its inbound routes to the gateway; they hand messages to ``dispatcher``."""
        ...

    async def close(self) -> None:
        """Close what start() opened."""
        ...


class FileAdapter(Adapter, Protocol):
    """An adapter whose messages carry files (FileRef.source): the worker reads them through its fetchers."""

    def document_fetchers(self) -> dict[str, Fetcher]:
        """FileRef.source -> fetcher, called after start()."""
        ...
