"""The one delivery-to-user policy: what a user hears after their message was handed over.

Every adapter (Slack, Teams, the web chat, and any new one) calls ``deliver_and_tell`` with
its own way of saying something; the policy decides what to say, and a dispatcher that fails
outright (a bug, an outage the queue did not absorb) is logged and answered as unavailable
instead of leaving the user with silence.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from workflows.contracts import ChatMessage
from workflows.platform_port import Delivery, SessionDispatcher

log = logging.getLogger(__name__)

CATCHING_UP_TEXT = "I'm catching up; I'll answer here shortly."

UNAVAILABLE_TEXT = (
    "I can't process this right now: my workflow service is unreachable. "
    "Your message was not lost on your side; please send it again in a minute."
)


@dataclass(frozen=True)
class Notice:
    """What an adapter says in the thread after handing a message over (``private``: only to its sender)."""

    text: str
    private: bool = False
    #: The Delivery status it answers (adapters key stored notices by it).
    status: str = ""


def notice_for(result: Delivery) -> Notice | None:
    """What (if anything) to tell the user about ``result``.

    Queued: "catching up", once per outage per thread (the queue decides ``notify``);
    refused: the reason, to the sender; not even queued: plainly unavailable.
    """
    if result.status == Delivery.QUEUED:
        return Notice(CATCHING_UP_TEXT, status=result.status) if result.notify else None
    if result.status == Delivery.INVALID:
        return Notice(f"I couldn't take that message: {result.detail}", private=True, status=result.status)
    if result.status == Delivery.UNAVAILABLE:
        return Notice(UNAVAILABLE_TEXT, status=result.status)
    return None


def http_status(result: Delivery) -> int:
    """For adapters that answer the sender over HTTP: 202 taken or queued, 400 refused, 503 not even queued."""
    if result.status == Delivery.INVALID:
        return 400
    if result.status == Delivery.UNAVAILABLE:
        return 503
    return 202


async def hand_over(dispatcher: SessionDispatcher, msg: ChatMessage) -> Delivery:
    """``dispatcher.deliver(msg)``; a dispatcher that raises is a bug: traceback logged, the user hears UNAVAILABLE."""
    try:
        return await dispatcher.deliver(msg)
    except Exception:  # the user must hear something rather than nothing
        session_id = msg.key.session_id()
        log.exception("delivering %s to %s failed", msg.message_id, session_id)
        return Delivery(Delivery.UNAVAILABLE, session_id)


async def deliver_and_tell(
    dispatcher: SessionDispatcher, msg: ChatMessage, tell: Callable[[Notice], Awaitable[None]]
) -> Delivery:
    """Hand ``msg`` over and, when the policy says so, ``tell`` its sender; answers the Delivery (for HTTP answers)."""
    result = await hand_over(dispatcher, msg)
    notice = notice_for(result)
    if notice is not None:
        await tell(notice)
    return result
