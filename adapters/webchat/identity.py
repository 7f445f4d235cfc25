"""Who a web chat browser is: an opaque id in a signed cookie, membership decided by the server.

The browser's ``user`` field is only a display label; ``Actor.id`` comes from here, so a
second browser that types the commander's name is still someone else. Modes
(``THREADWORK_WEBCHAT_AUTH``):

- ``open``: every browser is a member; names are self-chosen (``threadwork dev``).
- ``invite``: members sign in through a one-time link (adapters/webchat/invites.py);
  everyone else is a guest.
- ``proxy``: an auth proxy in front of the gateway names the user in a header
  (e.g. ``X-Forwarded-Email``); requests without it are guests.
"""

from __future__ import annotations

import logging
import os
import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, TypeVar

from aiohttp import web
from itsdangerous import BadData, URLSafeSerializer

log = logging.getLogger(__name__)

AuthMode = Literal["open", "invite", "proxy"]
AUTH_MODES: tuple[AuthMode, ...] = ("open", "invite", "proxy")
COOKIE = "threadwork_id"
#: Any response a cookie can be set on (JSON answers, the page files); remember() gives back the same type.
ResponseT = TypeVar("ResponseT", bound=web.StreamResponse)
COOKIE_MAX_AGE = 365 * 86400
SECRET_FILE = "webchat-secret"
#: Browser ids look like this; invited member ids are their names, which may not.
BROWSER_ID_PREFIX = "webchat-"
MAX_PROXY_ID = 200


@dataclass(frozen=True)
class Identity:
    """One browser (or proxied user) as the server sees it."""

    id: str
    is_member: bool
    #: The server-known name of a member (invite or proxy); None means the label is self-chosen.
    name: str | None = None
    #: The cookie to set on the response (a new browser, or a sign-in), if any.
    cookie: str | None = None

    def label(self, chosen: str) -> str:
        """The display name: the server-known name when there is one, else what the browser chose."""
        return self.name or chosen


def load_secret(data_dir: Path, configured: str | None) -> bytes:
    """The HMAC key: the configured one, else one generated once and kept in the data dir (0600).

    The file appears complete or not at all (written aside, then hard-linked into place), so
    gateways starting together on one volume agree on the key.
    """
    if configured:
        return configured.encode()
    path = data_dir / SECRET_FILE
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        aside = data_dir / f".{SECRET_FILE}.{os.getpid()}.{secrets.token_hex(4)}"
        fd = os.open(aside, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(secrets.token_urlsafe(48))
        try:
            os.link(aside, path)
            log.info("generated the web chat cookie secret in %s", path)
        except FileExistsError:
            pass  # another process was first: use its key
        finally:
            aside.unlink()
    secret = path.read_text().strip()
    if len(secret) < 32:
        raise ValueError(f"{path} holds a web chat secret shorter than 32 characters; delete it to generate a new one")
    return secret.encode()


def new_browser_id() -> str:
    return BROWSER_ID_PREFIX + secrets.token_hex(16)


class Identities:
    """Reads and issues the identity cookie, and applies the membership mode."""

    def __init__(self, mode: AuthMode, secret: bytes, proxy_header: str | None = None) -> None:
        if mode not in AUTH_MODES:
            raise ValueError(f"THREADWORK_WEBCHAT_AUTH must be one of {', '.join(AUTH_MODES)}, not {mode!r}")
        if mode == "proxy" and not proxy_header:
            raise ValueError(
                "THREADWORK_WEBCHAT_AUTH=proxy needs THREADWORK_WEBCHAT_PROXY_HEADER (e.g. X-Forwarded-Email)"
            )
        self.mode: AuthMode = mode
        self.proxy_header = proxy_header
        self._signer = URLSafeSerializer(secret, salt="threadwork.webchat.identity")
        #: Member name -> when it was revoked (`threadwork webchat revoke`), kept fresh by the routes.
        self.revoked: dict[str, float] = {}

    # ---- the cookie ----------------------------------------------------------------

    def _read_cookie(self, request: web.Request) -> dict | None:
        raw = request.cookies.get(COOKIE)
        if not raw:
            return None
        try:
            data = self._signer.loads(raw)
        except BadData:
            log.warning("web chat: ignored an identity cookie with a bad signature (a new identity is issued)")
            return None
        if not isinstance(data, dict) or not isinstance(data.get("u"), str) or not data["u"]:
            return None
        return data

    def sign(self, user_id: str, member: str | None = None) -> str:
        """The cookie value for ``user_id`` (``member``: the invited name, which makes it a member, since now)."""
        if member:
            return self._signer.dumps({"u": user_id, "m": member, "t": time.time()})
        return self._signer.dumps({"u": user_id})

    def _revoked(self, member: str, data: dict) -> bool:
        """A sign-in from before the member's revocation (cookies without a time predate revocations)."""
        revoked_at = self.revoked.get(member)
        signed_in = data.get("t")
        return revoked_at is not None and (not isinstance(signed_in, (int, float)) or signed_in <= revoked_at)

    # ---- who is this ---------------------------------------------------------------

    def of(self, request: web.Request) -> Identity:
        """The identity of this request; a browser without a valid cookie gets a new one."""
        if self.mode == "proxy":
            proxied = self._proxied(request)
            if proxied is not None:
                return Identity(id=proxied, is_member=True, name=proxied)
        data = self._read_cookie(request)
        if data is None:
            browser = new_browser_id()
            return Identity(id=browser, is_member=self.mode == "open", cookie=self.sign(browser))
        member = data.get("m") if self.mode != "proxy" else None
        if isinstance(member, str) and member:
            if self._revoked(member, data):
                # Not a member any more, and not that person either: a new browser id, as for a stranger.
                browser = new_browser_id()
                return Identity(id=browser, is_member=self.mode == "open", cookie=self.sign(browser))
            return Identity(id=data["u"], is_member=True, name=member)
        return Identity(id=data["u"], is_member=self.mode == "open")

    def _proxied(self, request: web.Request) -> str | None:
        value = request.headers.get(self.proxy_header or "", "").strip()
        if not value or len(value) > MAX_PROXY_ID or not value.isprintable():
            return None
        return value

    def remember(self, response: ResponseT, identity: Identity, request: web.Request) -> ResponseT:
        """Set the identity cookie on ``response`` when this identity needs one."""
        if identity.cookie is not None:
            response.set_cookie(
                COOKIE,
                identity.cookie,
                max_age=COOKIE_MAX_AGE,
                path="/",
                httponly=True,
                samesite="Lax",
                secure=served_over_https(request),
            )
        return response

    def describe(self, identity: Identity, guest_limit: int) -> dict:
        """What the page shows about who it is (GET /webchat/api/me)."""
        return {
            "mode": self.mode,
            "id": identity.id,
            "member": identity.is_member,
            "name": identity.name,
            "guest_message_limit": guest_limit,
        }


def served_over_https(request: web.Request) -> bool:
    """Whether the browser reached us over HTTPS, directly or through a TLS-terminating proxy.

    The proxy's ``X-Forwarded-Proto`` / ``Forwarded: proto=`` is believed without a trust list:
    all it can do is make the cookie Secure, which a plain-HTTP visitor only denies to himself.
    """
    if request.secure:
        return True
    forwarded_proto = request.headers.get("X-Forwarded-Proto", "").split(",")[0].strip().lower()
    if forwarded_proto == "https":
        return True
    first_forwarded = request.headers.get("Forwarded", "").split(",")[0]
    return any(part.strip().lower().replace('"', "") == "proto=https" for part in first_forwarded.split(";"))
