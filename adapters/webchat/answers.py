"""HTTP answers shared by the web chat's message and upload routes (one place for Delivery -> status)."""

from __future__ import annotations

from aiohttp import web

from adapters.base import UNAVAILABLE_TEXT, Delivery, SessionDispatcher
from adapters.webchat.platform import BOT_USER
from adapters.webchat.store import WebChatStore
from workflows.contracts import ChatMessage


def bad_request(reason: str) -> web.Response:
    return web.json_response({"error": reason}, status=400)


async def deliver(store: WebChatStore, dispatcher: SessionDispatcher, msg: ChatMessage) -> web.Response:
    """Hand a stored user message to its session: 202, 400 (refused) or 503 with the unavailable answer in the thread."""
    result = await dispatcher.deliver(msg)
    answer = {"session_id": result.session_id, "message_id": msg.message_id, "thread": msg.key.thread}
    if result.status in (Delivery.ACCEPTED, Delivery.DUPLICATE):
        return web.json_response(answer, status=202)
    if result.status == Delivery.INVALID:
        return web.json_response({**answer, "error": result.detail}, status=400)
    await store.add_message(
        channel=msg.key.channel, thread=msg.key.thread, user=BOT_USER, text=UNAVAILABLE_TEXT, is_bot=True,
        idempotency_key=f"unavailable:{msg.message_id}",
    )
    return web.json_response({**answer, "error": UNAVAILABLE_TEXT}, status=503)
