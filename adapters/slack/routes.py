"""The Slack routes in the gateway: POST /slack/events (events, commands, interactivity) and OAuth.

In Socket Mode there is no events route: bolt's AsyncSocketModeHandler opens a
websocket to Slack when the gateway starts and closes it when the gateway stops.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.signature import SignatureVerifier

from adapters.http_body import BodyError, read_bytes
from adapters.slack.app import SlackBot
from adapters.slack.signed_body import check_payload, is_signed

if TYPE_CHECKING:
    from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
    from slack_bolt.oauth.async_oauth_flow import AsyncOAuthFlow

log = logging.getLogger(__name__)
EVENTS_PATH = "/slack/events"


class SlackRoutes:
    def __init__(self, bot: SlackBot, signing_secret: str, app_token: str | None = None) -> None:
        self.bot = bot
        self.signing_secret = signing_secret
        self.verifier = SignatureVerifier(signing_secret)
        self.app: AsyncApp = bot.app
        self.app_token = app_token
        self.socket_handler: AsyncSocketModeHandler | None = None

    @property
    def socket_mode(self) -> bool:
        return bool(self.app_token)

    def add_to(self, web_app: web.Application) -> None:
        web_app.on_cleanup.append(self._close_thread_lookups)
        if self.bot.received is not None:
            web_app.on_startup.append(self._start_replays)
            web_app.on_cleanup.append(self._stop_replays)
        if self.socket_mode:
            web_app.on_startup.append(self._start_socket_mode)
            web_app.on_cleanup.append(self._stop_socket_mode)
        else:
            web_app.router.add_post(EVENTS_PATH, self.events)
        flow = self.app.oauth_flow
        if flow is not None:
            web_app.router.add_get(flow.install_path, self.install)
            web_app.router.add_get(flow.redirect_uri_path, self.oauth_redirect)

    async def _close_thread_lookups(self, _app: web.Application) -> None:
        await self.bot.threads.close()

    async def _start_replays(self, _app: web.Application) -> None:
        assert self.bot.received is not None
        await self.bot.received.start(self.replay)

    async def _stop_replays(self, _app: web.Application) -> None:
        assert self.bot.received is not None
        await self.bot.received.close()

    async def replay(self, body: str) -> None:
        """Hand a kept event to bolt again, as Slack would send it (signed now with our own secret)."""
        if self.socket_mode:
            request = AsyncBoltRequest(body=body, mode="socket_mode")
        else:
            timestamp = str(int(time.time()))
            signature = self.verifier.generate_signature(timestamp=timestamp, body=body) or ""
            headers: dict[str, str | Sequence[str]] = {
                "content-type": "application/json",
                "x-slack-request-timestamp": timestamp,
                "x-slack-signature": signature,
            }
            request = AsyncBoltRequest(body=body, headers=headers)
        await self.app.async_dispatch(request)

    async def events(self, request: web.Request) -> web.Response:
        """Signature on the raw bytes first (401), then the hardened parse (4xx), then bolt."""
        try:
            raw = await read_bytes(request)
        except BodyError as err:
            return err.response()
        if not is_signed(self.verifier, raw, request.headers):
            return web.json_response({"error": "invalid request"}, status=401)
        try:
            check_payload(raw, request.charset, request.content_type)
        except BodyError as err:
            log.warning("signed Slack request refused: %s", err.reason)
            return err.response()
        try:
            bolt_request = await to_bolt_request(request)
        except (AttributeError, TypeError, KeyError, IndexError, ValueError) as err:
            # bolt reads ids out of the payload while building the request; only a signed body gets here.
            log.warning("signed Slack request refused: bolt cannot read it (%s: %s)", type(err).__name__, err)
            return web.json_response({"error": "body is not a Slack payload bolt can read"}, status=400)
        bolt_response = await self.app.async_dispatch(bolt_request)
        if bolt_response.status == 404:
            # Signed, but not an event, command or interaction this app handles.
            return web.json_response(
                {"error": "unhandled request: not an event, command or interaction threadwork handles"}, status=400
            )
        return await to_aiohttp_response(bolt_response)

    @property
    def _oauth(self) -> AsyncOAuthFlow:
        """bolt's OAuth flow; its routes are mounted only when there is one (add_to)."""
        flow = self.app.oauth_flow
        if flow is None:
            raise RuntimeError("Slack OAuth is not configured (SLACK_CLIENT_ID / SLACK_CLIENT_SECRET)")
        return flow

    async def install(self, request: web.Request) -> web.Response:
        return await to_aiohttp_response(await self._oauth.handle_installation(await to_bolt_request(request)))

    async def oauth_redirect(self, request: web.Request) -> web.Response:
        return await to_aiohttp_response(await self._oauth.handle_callback(await to_bolt_request(request)))

    def make_socket_handler(self) -> AsyncSocketModeHandler:
        from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

        return AsyncSocketModeHandler(self.app, self.app_token)

    async def _start_socket_mode(self, _app: web.Application) -> None:
        handler = self.socket_handler = self.make_socket_handler()
        await handler.connect_async()
        log.info("Slack Socket Mode connected")

    async def _stop_socket_mode(self, _app: web.Application) -> None:
        if self.socket_handler is not None:
            await self.socket_handler.close_async()
            self.socket_handler = None
