"""Refuse cross-site requests to the web chat's state-changing routes (CSRF).

The identity cookie is SameSite=Lax, which already keeps it off cross-site POSTs; this
check also refuses them outright, so another site cannot post as an anonymous browser
either. Browsers send ``Sec-Fetch-Site`` and/or ``Origin`` on every POST; a client that
sends neither is not a browser (curl, a script) and cannot be driven by another site,
so it is let through, as the API documents.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

from aiohttp import web

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
ALLOWED_FETCH_SITES = {"same-origin", "none"}


def cross_site_reason(request: web.Request) -> str | None:
    """Why this request counts as cross-site, or None when it may proceed."""
    site = request.headers.get("Sec-Fetch-Site")
    if site is not None and site.strip().lower() not in ALLOWED_FETCH_SITES:
        return f"cross-site request refused (Sec-Fetch-Site: {site.strip()[:40]}); use the web chat page on this server"
    origin = request.headers.get("Origin")
    if origin is None:
        return None
    own = _own_hosts(request)
    try:
        parts = urlsplit(origin.strip())
        host = parts.netloc.lower()
    except ValueError:
        host = ""
    if origin.strip() == "null" or parts.scheme not in ("http", "https") or host not in own:
        return f"cross-site request refused (Origin {origin.strip()[:100]!r} is not this server)"
    return None


def _own_hosts(request: web.Request) -> set[str]:
    """This server's host[:port] as the browser addressed it (directly, or through a proxy that says so)."""
    hosts = {request.host.lower()}
    forwarded = request.headers.get("X-Forwarded-Host")
    if forwarded:
        hosts.add(forwarded.split(",")[0].strip().lower())
    return hosts


def same_origin(handler: Handler) -> Handler:
    """Wrap a state-changing route: cross-site requests get 403 with the reason."""

    async def checked(request: web.Request) -> web.StreamResponse:
        reason = cross_site_reason(request)
        if reason is not None:
            return web.json_response({"error": reason}, status=403)
        return await handler(request)

    return checked
