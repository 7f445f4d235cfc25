"""The web chat's Stop button: ``POST /webchat/api/stop`` cancels the turn streaming into a message.

The browser names the streaming message; the session is the one of that message's
thread, and who stops is the browser's identity (as for every click). The answer says
whether a turn was running (``stopped``) and, if not, why (``detail``).
"""

from __future__ import annotations

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from adapters.base import SessionDispatcher
from adapters.http_errors import bad_request
from adapters.webchat.identity import Identities
from adapters.webchat.store import WebChatStore, new_id
from workflows.contracts import Actor, ConversationKey

STOP_PATH = "/webchat/api/stop"


class PostStop(BaseModel):
    model_config = ConfigDict(extra="forbid")
    channel: str = Field(min_length=1, max_length=80)
    message_id: str = Field(min_length=1, max_length=128)
    user: str = Field(min_length=1, max_length=80)


class StopRoute:
    def __init__(self, store: WebChatStore, dispatcher: SessionDispatcher, identities: Identities) -> None:
        self.store = store
        self.dispatcher = dispatcher
        self.identities = identities

    async def stop(self, request: web.Request, body: PostStop) -> web.StreamResponse:
        message = await self.store.get_message(body.message_id)
        if message is None or message["channel"] != body.channel or not message["is_bot"]:
            return bad_request(f"message {body.message_id!r} is not a reply in channel {body.channel!r}")
        identity = self.identities.of(request)
        key = ConversationKey(platform="webchat", channel=body.channel, thread=message["thread"])
        actor = Actor(id=identity.id, name=identity.label(body.user), is_guest=not identity.is_member)
        result = await self.dispatcher.stop_turn(key.session_id(), actor, f"webchat-stop-{new_id()}")
        answer = web.json_response(result.model_dump(), status=202)
        return self.identities.remember(answer, identity, request)
