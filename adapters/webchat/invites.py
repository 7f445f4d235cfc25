"""One-time sign-in links for web chat members (``threadwork webchat invite NAME``).

Only a hash of each token is stored (in the web chat store, SQLite or PostgreSQL, shared by
the CLI and the gateway); redeeming marks it used in the same UPDATE, so a link works once.
A member's id is the invited name: the operator chose it, so it can be named in
``THREADWORK_INCIDENT_RESPONDERS``, and a second invite for the same name signs in the
same member on another browser.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass

from adapters.webchat.identity import BROWSER_ID_PREFIX
from adapters.webchat.store import WebChatStore

DEFAULT_TTL_SECONDS = 24 * 3600
SIGNIN_PATH = "/webchat/signin"


class InviteError(ValueError):
    """An invite cannot be made or redeemed; the message says why."""


@dataclass(frozen=True)
class Invite:
    name: str
    token: str
    expires_at: float

    def link(self, base_url: str) -> str:
        return f"{base_url.rstrip('/')}{SIGNIN_PATH}#{self.token}"


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def check_name(name: str) -> str:
    name = name.strip()
    if not name or len(name) > 80:
        raise InviteError("the member's name must be 1 to 80 characters")
    if not name.isprintable():
        raise InviteError("the member's name must not contain control characters")
    if name.startswith(BROWSER_ID_PREFIX):
        raise InviteError(f"the member's name may not start with {BROWSER_ID_PREFIX!r} (browser ids do)")
    return name


class Invites:
    def __init__(self, store: WebChatStore) -> None:
        self.store = store

    async def create(self, name: str, ttl_seconds: float = DEFAULT_TTL_SECONDS) -> Invite:
        name = check_name(name)
        if ttl_seconds <= 0:
            raise InviteError("the link must be valid for more than 0 seconds")
        token = secrets.token_urlsafe(32)
        now = time.time()
        await self.store.add_invite(_hash(token), name, now, now + ttl_seconds)
        return Invite(name, token, now + ttl_seconds)

    async def redeem(self, token: str) -> str:
        """The invited name; the token cannot be used again. InviteError says why a token is refused."""
        redeemed, row = await self.store.redeem_invite(_hash(token), time.time())
        if redeemed and row is not None:
            return row.name
        if row is None:
            raise InviteError("this sign-in link is not valid; ask for a new one (threadwork webchat invite NAME)")
        if row.used_at is not None:
            raise InviteError("this sign-in link was already used; ask for a new one (threadwork webchat invite NAME)")
        raise InviteError("this sign-in link has expired; ask for a new one (threadwork webchat invite NAME)")

    async def revoke(self, name: str) -> int:
        """``name`` is no member any more: its unused links stop working (their number is returned) and
        browsers signed in as ``name`` are guests again, each under a new id; a new invite signs in again."""
        return await self.store.revoke_member(check_name(name), time.time())
