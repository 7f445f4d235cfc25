"""The gateway's one shape of a refusal: JSON ``{"error": reason}`` with its status, on every route."""

from __future__ import annotations

from aiohttp import web


def error_answer(reason: str, status: int) -> web.Response:
    return web.json_response({"error": reason}, status=status)


def bad_request(reason: str) -> web.Response:
    """400 with the reason: the request itself is wrong, and repeating it will not help."""
    return error_answer(reason, 400)
