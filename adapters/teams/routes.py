"""POST /api/messages: the hardened body and the activity's shape (4xx), then the adapter's auth and bot.

What CloudAdapter.process does for a POST, given the Activity the shape check deserialized:
deserializing it a second time (msrest) was about a twentieth of the gateway's CPU per message.
"""

from __future__ import annotations

import logging

from aiohttp import web
from botbuilder.core import Bot, serializer_helper
from botbuilder.integration.aiohttp import CloudAdapter
from botbuilder.schema import Activity

from adapters.http_body import BodyError, read_json
from adapters.teams.activity_shape import check_activity
from adapters.teams.anonymous_service_url import anonymous_refusal
from adapters.teams.turn_errors import ConnectorFailed

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 1024 * 1024


class TeamsRoutes:
    def __init__(self, adapter: CloudAdapter, bot: Bot, *, auth_required: bool, service_url: str = "") -> None:
        self.adapter = adapter
        self.bot = bot
        self.auth_required = auth_required
        #: TEAMS_SERVICE_URL: the one non-loopback serviceUrl an anonymous activity may name.
        self.service_url = service_url

    def add_to(self, app: web.Application) -> None:
        app.router.add_post("/api/messages", self.messages)

    async def messages(self, request: web.Request) -> web.StreamResponse:
        # Unauthenticated callers learn nothing about what a valid body looks like.
        if self.auth_required and not request.headers.get("Authorization"):
            return web.json_response({"error": "a Bot Framework bearer token is required"}, status=401)
        if "application/json" not in request.headers.get("Content-Type", ""):
            return web.json_response({"error": "Content-Type must be application/json"}, status=415)
        try:
            shape, activity = check_activity(await read_json(request, max_bytes=MAX_BODY_BYTES))
        except BodyError as err:
            return err.response()
        if not self.auth_required:
            refusal = anonymous_refusal(shape.serviceUrl, self.service_url)
            if refusal is not None:
                log.warning("refused an anonymous activity for serviceUrl %r", shape.serviceUrl[:200])
                return web.json_response({"error": refusal}, status=400)
        try:
            response = await self._process(request.headers.get("Authorization", ""), activity)
        except PermissionError:
            return web.json_response({"error": "invalid Bot Framework token"}, status=401)
        except ConnectorFailed as err:
            if err.status == 502 and not self.auth_required:
                # Anonymous mode: the sender chose serviceUrl, so a serviceUrl nobody answers at is its mistake.
                return web.json_response({"error": f"{err.reason} (at the activity's serviceUrl)"}, status=400)
            return web.json_response({"error": err.reason}, status=err.status)
        if response is not None and response.status == 501:
            # botbuilder answers 501 to an invoke it has no handler for: the sender's mistake, not ours.
            return web.json_response({"error": "this invoke activity is not supported"}, status=400)
        return response

    async def _process(self, auth_header: str, activity: Activity) -> web.Response:
        """CloudAdapter.process's POST branch (botbuilder-integration-aiohttp 4.17.1), from the Activity."""
        invoke_response = await self.adapter.process_activity(auth_header, activity, self.bot.on_turn)
        if invoke_response:
            return web.json_response(data=serializer_helper(invoke_response.body), status=invoke_response.status)
        return web.Response(status=201)
