"""POST /api/messages: checks the request's shape, then CloudAdapter.process (auth + bot)."""

from __future__ import annotations

import json
import logging

from aiohttp import web
from botbuilder.core import Bot
from botbuilder.integration.aiohttp import CloudAdapter

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 1024 * 1024


def _bad_request(reason: str) -> web.Response:
    return web.json_response({"error": reason}, status=400)


class TeamsRoutes:
    def __init__(self, adapter: CloudAdapter, bot: Bot, *, auth_required: bool) -> None:
        self.adapter = adapter
        self.bot = bot
        self.auth_required = auth_required

    def add_to(self, app: web.Application) -> None:
        app.router.add_post("/api/messages", self.messages)

    async def messages(self, request: web.Request) -> web.StreamResponse:
        # Unauthenticated callers learn nothing about what a valid body looks like.
        if self.auth_required and not request.headers.get("Authorization"):
            return web.json_response({"error": "a Bot Framework bearer token is required"}, status=401)
        if "application/json" not in request.headers.get("Content-Type", ""):
            return web.json_response({"error": "Content-Type must be application/json"}, status=415)
        if request.content_length is not None and request.content_length > MAX_BODY_BYTES:
            return web.json_response({"error": "body is too large"}, status=413)
        try:
            body = await request.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            return _bad_request("body is not valid JSON")
        if not isinstance(body, dict):
            return _bad_request("body must be a JSON object (an activity)")
        for field in ("type", "serviceUrl", "conversation"):
            if not body.get(field):
                return _bad_request(f"activity.{field} is required")
        if not isinstance(body["conversation"], dict) or not body["conversation"].get("id"):
            return _bad_request("activity.conversation.id is required")
        try:
            return await self.adapter.process(request, self.bot)
        except web.HTTPUnauthorized:
            return web.json_response({"error": "invalid Bot Framework token"}, status=401)
