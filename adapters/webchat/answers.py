"""HTTP answers shared by the web chat's message and upload routes (one place for Delivery -> status)."""

from __future__ import annotations

from aiohttp import web

from adapters.user_notice import Notice, deliver_and_tell, http_status
from adapters.webchat.platform import BOT_USER
from adapters.webchat.store import WebChatStore
from workflows.contracts import ChatMessage
from workflows.platform_port import Delivery, SessionDispatcher


async def deliver(store: WebChatStore, dispatcher: SessionDispatcher, msg: ChatMessage) -> web.Response:
    """Hand a stored user message to its session (adapters/user_notice.py decides what the user hears).

    202 when the session took it or the gateway queued it (``queued`` says which; the
    thread hears "catching up" once per outage), 400 with the reason when it is refused,
    503 only when it could not even be queued.
    """
    said: list[Notice] = []

    async def tell(notice: Notice) -> None:
        said.append(notice)
        if notice.private:  # only the sender hears it: the HTTP answer carries it
            return
        await store.add_message(
            channel=msg.key.channel,
            thread=msg.key.thread,
            user=BOT_USER,
            text=notice.text,
            is_bot=True,
            idempotency_key=f"{notice.status}:{msg.message_id}",
        )

    result = await deliver_and_tell(dispatcher, msg, tell)
    answer = {"session_id": result.session_id, "message_id": msg.message_id, "thread": msg.key.thread}
    status = http_status(result)
    if status == 202:
        return web.json_response({**answer, "queued": result.status == Delivery.QUEUED}, status=202)
    return web.json_response({**answer, "error": result.detail or (said[0].text if said else "")}, status=status)
