"""THREADWORK_EVENTS_TOKEN: ``Authorization: Bearer ...`` or ``?token=...``, compared in constant time."""

from __future__ import annotations

import hmac
from typing import Any

from aiohttp import web


def token_matches(presented: str | None, expected: str) -> bool:
    if not presented or not expected:
        return False
    # A header's undecodable bytes arrive as surrogate escapes: compare the bytes that were sent.
    return hmac.compare_digest(presented.encode("utf-8", "surrogateescape"), expected.encode())


def presented_token(request: web.Request) -> str | None:
    auth = request.headers.get("Authorization", "")
    scheme, _, value = auth.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return request.query.get("token")


def unauthorized(reason: str = "missing or wrong events token") -> web.Response:
    return web.json_response(
        {"error": reason}, status=401, headers={"WWW-Authenticate": 'Bearer realm="threadwork-events"'}
    )


def check(request: web.Request, expected: str) -> web.Response | None:
    """None when the request carries the token; otherwise the 401 to answer."""
    if token_matches(presented_token(request), expected):
        return None
    return unauthorized()


def client_states_match(body: Any, expected: str) -> bool:
    """SharePoint authenticates in the body: every notification's clientState must be the token.

    Checked on the raw JSON before anything validates or acts on it, so an unauthenticated
    body reaches no code beyond the hardened reader and this function.
    """
    notes = body.get("value") if isinstance(body, dict) else None
    if not isinstance(notes, list) or not notes:
        return False
    return all(
        isinstance(n, dict) and isinstance(n.get("clientState"), str) and token_matches(n["clientState"], expected)
        for n in notes
    )
