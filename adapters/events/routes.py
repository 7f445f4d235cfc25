"""The event routes on the gateway: authentication, then one module per source.

Answers: 401 without the events token, 400 with the reason for a malformed payload or
one Temporal can never take (an id or body over its limits), 503 only when Temporal
(or Graph) cannot be reached so the sender retries, 202 with what
was started, deduplicated, updated or ignored.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta

from aiohttp import web
from temporalio.service import RPCError, RPCStatusCode

from adapters.events import alertmanager, auth, azure_blob, s3, sharepoint, webhook
from adapters.events.common import BadEvent, read_json
from adapters.events.starter import EventStarter, Outcome
from adapters.http_body import BodyError
from adapters.http_errors import bad_request
from workflows.activities.fetchers import FetchError
from workflows.registry import CustomWorkflowRegistry

log = logging.getLogger(__name__)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _accepted(outcome: Outcome, **extra: object) -> web.Response:
    return web.json_response({**outcome.as_json(), **extra}, status=202)


class EventRoutes:
    def __init__(
        self,
        token: str,
        starter: EventStarter,
        registry: CustomWorkflowRegistry,
        graph: sharepoint.ChangeSource,
        sharepoint_lookback: timedelta = timedelta(hours=1),
    ) -> None:
        self.token = token
        self.starter = starter
        self.registry = registry
        self.graph = graph
        self.lookback = sharepoint_lookback

    def add_to(self, app: web.Application) -> None:
        app.router.add_post("/events/s3", self._guard(self.s3))
        app.router.add_post("/events/azure-blob", self._guard(self.azure_blob))
        app.router.add_route("OPTIONS", "/events/azure-blob", self._guard(self.azure_handshake))
        # SharePoint authenticates with clientState (checked per notification), not a header.
        app.router.add_post("/events/sharepoint", self._errors(self.sharepoint))
        app.router.add_post("/events/alertmanager", self._guard(self.alertmanager))
        app.router.add_post("/events/webhook/{name}", self._guard(self.webhook))

    def _guard(self, handler: Handler) -> Handler:
        wrapped = self._errors(handler)

        async def guarded(request: web.Request) -> web.StreamResponse:
            refused = auth.check(request, self.token)
            return refused if refused is not None else await wrapped(request)

        return guarded

    @staticmethod
    def _errors(handler: Handler) -> Handler:
        async def run(request: web.Request) -> web.StreamResponse:
            try:
                return await handler(request)
            except BodyError as err:
                return err.response()
            except BadEvent as err:
                return bad_request(str(err))
            except RPCError as err:
                if err.status in (RPCStatusCode.INVALID_ARGUMENT, RPCStatusCode.OUT_OF_RANGE):
                    # Temporal refused the request itself: a retry cannot help, so say why (4xx).
                    log.warning("%s: Temporal refused the event: %s", request.path, err)
                    return bad_request(f"the workflow service refused this event: {err.message or err}")
                log.warning("%s: Temporal unavailable: %s", request.path, err)
                return web.json_response({"error": "the workflow service is unavailable; retry later"}, status=503)

        return run

    async def s3(self, request: web.Request) -> web.Response:
        outcome, extra = await s3.handle(await read_json(request), self.starter)
        return _accepted(outcome, **extra)

    async def azure_handshake(self, request: web.Request) -> web.Response:
        """CloudEvents abuse protection: allow the origin that asks."""
        origin = request.headers.get("WebHook-Request-Origin")
        if not origin:
            return bad_request("OPTIONS needs a WebHook-Request-Origin header (CloudEvents validation)")
        return web.Response(
            status=200,
            headers={"WebHook-Allowed-Origin": origin, "WebHook-Allowed-Rate": "*", "Allow": "POST, OPTIONS"},
        )

    async def azure_blob(self, request: web.Request) -> web.Response:
        events = azure_blob.parse(await read_json(request, require_object=False))  # Event Grid posts an array
        code = azure_blob.validation_code(events)
        if code is not None:
            return web.json_response({"validationResponse": code})
        return _accepted(await azure_blob.handle(events, self.starter))

    async def sharepoint(self, request: web.Request) -> web.Response:
        validation = next((v for k, v in request.query.items() if k.lower() == "validationtoken"), None)
        if validation is not None:
            return web.Response(text=validation, content_type="text/plain")
        body = await read_json(request)
        if not auth.client_states_match(body, self.token):
            return auth.unauthorized("every notification needs a clientState equal to the events token")
        try:
            notes = sharepoint.parse(body, self.token)
        except sharepoint.NotAuthorized as err:
            return auth.unauthorized(str(err))
        try:
            outcome = await sharepoint.handle(notes, self.graph, self.starter, self.lookback)
        except FetchError as err:
            log.warning("SharePoint notification: Graph failed: %s", err)
            return web.json_response({"error": f"Microsoft Graph: {err}"}, status=503)
        return _accepted(outcome)

    async def alertmanager(self, request: web.Request) -> web.Response:
        return _accepted(await alertmanager.handle(alertmanager.parse(await read_json(request)), self.starter))

    async def webhook(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        target = self.registry.for_webhook(name)
        if target is None:
            known = ", ".join(w.spec.webhook for w in self.registry.workflows if w.spec.webhook) or "none"
            return web.json_response(
                {"error": f"no workflow is registered for webhook {name!r} (registered: {known})"}, status=404
            )
        return _accepted(await webhook.handle(target, request.headers, await read_json(request), self.starter))
