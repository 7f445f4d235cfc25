"""on_turn_error for the Teams CloudAdapter: a failing Bot Connector is an answer, a bug is a traceback.

A turn can fail because of what the activity names: a member the connector does not
know (it answers 404), or, in anonymous mode, a serviceUrl nobody answers at. Those
are not bugs: one WARNING line, and /api/messages answers 400 (the connector refused
what the activity named, or in anonymous mode the sender's serviceUrl cannot be reached)
or 502 (Microsoft's connector failed; Bot Framework retries). Anything else is a bug:
logged with its traceback and answered 500, as before.
"""

from __future__ import annotations

import asyncio
import logging

import aiohttp
from botbuilder.core import TurnContext
from msrest.exceptions import ClientRequestError, HttpOperationError

log = logging.getLogger(__name__)

#: Connector answers that mean "what the activity named does not exist / is not valid".
REFUSED_STATUSES = {400, 404}


class ConnectorFailed(Exception):
    """The turn failed at the Bot Connector; ``status`` and ``reason`` make the HTTP answer."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


def connector_failure(error: BaseException) -> ConnectorFailed | None:
    if isinstance(error, HttpOperationError):
        status = getattr(error.response, "status_code", None)
        code = 400 if status in REFUSED_STATUSES else 502
        return ConnectorFailed(code, f"the Bot Connector answered {status}: {error.message}")
    if isinstance(error, (ClientRequestError, aiohttp.ClientError, OSError, asyncio.TimeoutError)):
        return ConnectorFailed(502, f"the Bot Connector could not be reached: {type(error).__name__}")
    return None


async def on_turn_error(turn_context: TurnContext, error: Exception) -> None:
    failed = connector_failure(error)
    if failed is not None:
        log.warning("Teams turn for activity %s: %s", turn_context.activity.id, failed.reason)
        raise failed from None
    # A bug: log it with the traceback and let it surface (a 500 makes Bot Framework retry;
    # the session dedupes the retried activity by its id).
    log.error("Teams turn failed for activity %s", turn_context.activity.id, exc_info=error)
    raise error
