"""Where an anonymous /api/messages caller may have the bot post its replies.

Without TEAMS_APP_ID nobody proves who sent an activity, and the bot posts its reply to the
activity's ``serviceUrl``: any caller could make the gateway send HTTP requests wherever he
likes. Anonymous mode is for the Bot Framework Emulator on the developer's machine, so it
answers loopback serviceUrls only, plus the operator's own TEAMS_SERVICE_URL.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

LOOPBACK_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost"}


def is_loopback(url: str) -> bool:
    host = (urlsplit(url).hostname or "").lower()
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    return parts.scheme.lower(), (parts.hostname or "").lower(), parts.port


def anonymous_refusal(service_url: str, configured: str) -> str | None:
    """None when an anonymous activity may name ``service_url``; else why not (the 400's reason)."""
    if is_loopback(service_url) or (configured and _origin(service_url) == _origin(configured)):
        return None
    return (
        "TEAMS_APP_ID is not set, so /api/messages is anonymous (Bot Framework Emulator only) and answers "
        "only a loopback serviceUrl or TEAMS_SERVICE_URL's; set TEAMS_APP_ID and TEAMS_APP_PASSWORD for Teams"
    )
