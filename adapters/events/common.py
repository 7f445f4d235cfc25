"""Shared pieces of the event routes: JSON bodies, 400 reasons, natural ids."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from aiohttp import web
from pydantic import ValidationError

from adapters import http_body

#: Workflow ids stay well below Temporal's limit; longer natural ids are hashed.
MAX_ID_CHARS = 400


class BadEvent(ValueError):
    """The payload is malformed; the message is the 400's reason."""


async def read_json(request: web.Request, *, require_object: bool = True) -> Any:
    """The body as JSON whatever its content type (SNS posts JSON as text/plain), through the
    gateway's hardened reader: its BodyError carries the 4xx (EventRoutes answers it)."""
    return await http_body.read_json(request, require_object=require_object)


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
