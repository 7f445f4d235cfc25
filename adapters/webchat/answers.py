"""HTTP answers shared by the web chat's message and upload routes (one place for Delivery -> status)."""

from __future__ import annotations

from aiohttp import web

from adapters.base import UNAVAILABLE_TEXT, Delivery, SessionDispatcher, notice_for
from adapters.webchat.platform import BOT_USER
from adapters.webchat.store import WebChatStore
from workflows.contracts import ChatMessage


async def deliver(store: WebChatStore, dispatcher: SessionDispatcher, msg: ChatMessage) -> web.Response:
    """Hand a stored user message to its session.

    202 when the session took it or the gateway queued it (``queued`` says which; the
    thread hears "catching up" once per outage), 400 with the reason when it is refused,
    503 only when it could not even be queued.
    """
    result = await dispatcher.deliver(msg)
    answer = {"session_id": result.session_id, "message_id": msg.message_id, "thread": msg.key.thread}
    if result.status == Delivery.INVALID:
        return web.json_response({**answer, "error": result.detail}, status=400)
    notice = notice_for(result)
    if notice is not None:
        await store.add_message(
            channel=msg.key.channel, thread=msg.key.thread, user=BOT_USER, text=notice.text, is_bot=True,
            idempotency_key=f"{result.status}:{msg.message_id}",
        )
    if result.status == Delivery.UNAVAILABLE:
        return web.json_response({**answer, "error": result.detail or UNAVAILABLE_TEXT}, status=503)
    return web.json_response({**answer, "queued": result.status == Delivery.QUEUED}, status=202)
