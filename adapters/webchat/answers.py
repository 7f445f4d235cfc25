"""HTTP answers shared by the web chat's message and upload routes (one place for Delivery -> status)."""

from __future__ import annotations

import logging
import sqlite3

from aiohttp import web

from adapters.storage import StoreUnavailable
from adapters.user_notice import Notice, deliver_and_tell, http_status
from adapters.webchat.platform import BOT_USER
from adapters.webchat.store import WebChatStore
from workflows.contracts import ChatMessage, user_mention
from workflows.platform_port import Delivery, SessionDispatcher

log = logging.getLogger(__name__)
#: What a store raises when it cannot be used right now.
STORE_ERRORS = (sqlite3.Error, OSError, StoreUnavailable)


async def hand_over(
    store: WebChatStore, dispatcher: SessionDispatcher, msg: ChatMessage, *, sender_waiting: bool = True
) -> tuple[Delivery, list[Notice]]:
    """Hand a stored user message to its session, then clear its hand-over (adapters/webchat/handover.py).

    With the sender waiting, the HTTP answer settles it whatever happened (a 503 asks them to
    resend). A later hand-over (``sender_waiting=False``) that could not even queue the message
    keeps it for the next round and says nothing; a refusal is said in the thread, naming the sender.
    """
    said: list[Notice] = []

    async def tell(notice: Notice) -> None:
        said.append(notice)
        if notice.private and sender_waiting:  # only the sender hears it: the HTTP answer carries it
            return
        if notice.status == Delivery.UNAVAILABLE and not sender_waiting:  # tried again in the next round
            return
        text = notice.text if not notice.private else f"{user_mention(msg.actor)}: {notice.text}"
        await store.add_message(
            channel=msg.key.channel,
            thread=msg.key.thread,
            user=BOT_USER,
            text=text,
            is_bot=True,
            idempotency_key=f"{notice.status}:{msg.message_id}",
        )

    result = await deliver_and_tell(dispatcher, msg, tell)
    if sender_waiting or result.status != Delivery.UNAVAILABLE:
        try:
            await store.handed_over(msg.message_id)
        except STORE_ERRORS as err:  # handed over again later: the queue and Temporal dedupe by message id
            log.warning("web chat: could not clear the hand-over of %s: %s", msg.message_id, err)
    return result, said


async def deliver(store: WebChatStore, dispatcher: SessionDispatcher, msg: ChatMessage) -> web.Response:
    """Hand a stored user message to its session (adapters/user_notice.py decides what the user hears).

    202 when the session took it or the gateway queued it (``queued`` says which; the
    thread hears "catching up" once per outage), 400 with the reason when it is refused,
    503 only when it could not even be queued.
    """
    result, said = await hand_over(store, dispatcher, msg)
    answer = {"session_id": result.session_id, "message_id": msg.message_id, "thread": msg.key.thread}
    status = http_status(result)
    if status == 202:
        return web.json_response({**answer, "queued": result.status == Delivery.QUEUED}, status=202)
    return web.json_response({**answer, "error": result.detail or (said[0].text if said else "")}, status=status)
