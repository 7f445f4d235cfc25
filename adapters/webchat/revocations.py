"""Keeps the gateway's copy of revoked web chat members fresh (``threadwork webchat revoke NAME``).

Identities are read on every request, synchronously, from the signed cookie; the list of
revoked members comes from the store (shared by every gateway and the CLI), so it is
re-read every few seconds instead of once per request.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable

from aiohttp import web

from adapters.webchat.identity import Identities
from adapters.webchat.store import WebChatStore

log = logging.getLogger(__name__)

#: How long a revoked member's browser may still act as a member, at most.
REFRESH_SECONDS = 5.0


async def refresh(store: WebChatStore, identities: Identities) -> None:
    identities.revoked = await store.revocations()


async def _keep_fresh(store: WebChatStore, identities: Identities, every: float) -> None:
    failing = False
    while True:
        try:
            await refresh(store, identities)
            failing = False
        except Exception as err:  # the store is unreachable for a moment: keep the last known list
            if not failing:
                log.warning("web chat: could not re-read revoked members (keeping the last list): %s", err)
            failing = True
        await asyncio.sleep(every)


def revocations_ctx(
    store: WebChatStore, identities: Identities, every: float = REFRESH_SECONDS
) -> Callable[[web.Application], AsyncIterator[None]]:
    """An aiohttp cleanup context: re-reads revocations while the app runs."""

    async def ctx(app: web.Application) -> AsyncIterator[None]:
        task = asyncio.create_task(_keep_fresh(store, identities, every))
        yield
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)

    return ctx
