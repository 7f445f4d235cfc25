"""The toy Adapter: its own settings (TOY_*), a JSON route for inbound messages, the recording platform."""

from __future__ import annotations

import hmac
from typing import ClassVar

from aiohttp import web
from pydantic import Field
from pydantic_settings import SettingsConfigDict

from adapters.context import AdapterContext
from adapters.settings import AdapterSettings
from adapters.user_notice import Notice, deliver_and_tell, http_status
from tests.toy_platform.platform import ToyPlatform
from tests.toy_platform.session_ids import ToySessionIds
from workflows.contracts import Actor, ChatMessage, ConversationKey, Reply
from workflows.platform_port import ChatPlatform, SessionDispatcher
from workflows.platform_traits import ChannelNameRule, PlatformTraits
from workflows.session_ids import SessionIdCodec

ROUTE = "/toy/messages"


class ToySettings(AdapterSettings):
    model_config = SettingsConfigDict(env_prefix="TOY_", env_file=".env", extra="ignore")

    enabled: bool = False
    #: What senders put in X-Toy-Token.
    token: str = Field("", min_length=0)


class ToyAdapter:
    name: ClassVar[str] = "toy"
    #: No threads (replies go into the room), posts over the network, pins, and a channel-name rule of
    #: its own (short, mixed case, no separators besides '-') so a test sees that the rule reaches incidents.
    traits: ClassVar[PlatformTraits] = PlatformTraits(
        name="toy",
        display_name="Toy chat",
        threads=False,
        local_delivery=False,
        pins=True,
        channel_names=ChannelNameRule(max_length=28, lowercase=False, allowed="A-Za-z0-9"),
    )
    session_ids: ClassVar[SessionIdCodec] = ToySessionIds()
    settings_model: ClassVar[type[AdapterSettings]] = ToySettings

    @classmethod
    def enabled(cls, settings: AdapterSettings) -> bool:
        return isinstance(settings, ToySettings) and settings.enabled

    def __init__(self, settings: AdapterSettings, context: AdapterContext) -> None:
        assert isinstance(settings, ToySettings)
        self.settings = settings
        self.platform = ToyPlatform()
        self.closed = False

    async def start(self) -> ChatPlatform:
        return self.platform

    def mount(self, app: web.Application, dispatcher: SessionDispatcher) -> None:
        async def receive(request: web.Request) -> web.Response:
            if not hmac.compare_digest(request.headers.get("X-Toy-Token", ""), self.settings.token):
                return web.json_response({"error": "bad token"}, status=401)
            body = await request.json()
            key = ConversationKey(platform="toy", channel=body["room"], thread=body.get("thread"))
            actor = Actor(id=body["user"], name=body["user"])
            msg = ChatMessage(key=key, actor=actor, text=body["text"], message_id=body["id"])

            async def tell(notice: Notice) -> None:
                await self.platform.post(key, Reply(text=notice.text))

            result = await deliver_and_tell(dispatcher, msg, tell)
            answer = {"session_id": result.session_id, "status": result.status}
            return web.json_response(answer, status=http_status(result))

        app.router.add_post(ROUTE, receive)

    async def close(self) -> None:
        self.closed = True
