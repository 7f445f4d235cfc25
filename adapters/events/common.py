"""Shared pieces of the event routes: JSON bodies, 400 reasons, natural ids."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from aiohttp import web
from pydantic import ValidationError

#: Workflow ids stay well below Temporal's limit; longer natural ids are hashed.
MAX_ID_CHARS = 400


class BadEvent(ValueError):
    """The payload is malformed; the message is the 400's reason."""


def bad_request(reason: str) -> web.Response:
    return web.json_response({"error": reason}, status=400)


async def read_json(request: web.Request) -> Any:
    """The body as JSON whatever its content type (SNS posts JSON as text/plain)."""
    raw = await request.read()
    if not raw.strip():
        raise BadEvent("body is empty")
    try:
        return json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise BadEvent(f"body is not valid JSON ({err})") from err


def explain(err: ValidationError) -> str:
    parts = []
    for e in err.errors():
        where = ".".join(str(p) for p in e["loc"]) or "body"
        msg = "is required" if e["type"] == "missing" else e["msg"]
        parts.append(f"{where}: {msg}")
    return "; ".join(parts)


def natural_id(prefix: str, raw: str) -> str:
    """``prefix:raw``, hashed when ``raw`` is too long for a workflow id."""
    if len(raw) > MAX_ID_CHARS:
        raw = hashlib.sha256(raw.encode()).hexdigest()
    return f"{prefix}:{raw}"


def body_digest(body: Any) -> str:
    return hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":")).encode()).hexdigest()[:32]
