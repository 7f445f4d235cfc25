"""Web chat identity over the real API: signed cookie, membership modes, invites, cross-site refusal."""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import os
import stat
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from adapters.webchat.identity import COOKIE, Identities, load_secret
from adapters.webchat.invites import Invites
from bots.config import Settings
from bots.wiring import webchat_identities
from tests.support.helpers import eventually
from tests.support.stack import Stack, running_stack

ROOT = Path(__file__).resolve().parents[1]


async def me(http: httpx.AsyncClient) -> dict:
    resp = await http.get("/webchat/api/me")
    assert resp.status_code == 200, resp.text
    return resp.json()


async def post(
    http: httpx.AsyncClient,
    text: str,
    thread: str | None = None,
    user: str = "alice",
    headers: dict | None = None,
    **extra,
) -> httpx.Response:
    body = {"channel": "general", "thread": thread, "user": user, "text": text, **extra}
    return await http.post("/webchat/api/messages", json=body, headers=headers)


def browser(stack: Stack, **headers: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=stack.base_url, timeout=30, headers=headers)


async def participants(stack: Stack, session_id: str) -> dict:
    return await eventually(lambda: stack.state(session_id), lambda s: s["participants"], what="participants")


# ---- the cookie -------------------------------------------------------------------


async def test_cookie_is_signed_httponly_samesite_and_a_tampered_one_is_replaced(client, tmp_path, caplog):
    async with running_stack(client, tmp_path, webchat_auth="open") as stack, browser(stack) as http:
        first = await http.get("/webchat/api/me")
        set_cookie = first.headers["set-cookie"]
        assert set_cookie.startswith(f"{COOKIE}=") and "HttpOnly" in set_cookie and "SameSite=Lax" in set_cookie
        assert "Path=/" in set_cookie and "Max-Age=" in set_cookie
        who = first.json()
        assert who["mode"] == "open" and who["member"] is True and who["id"].startswith("webchat-")
        assert (await me(http))["id"] == who["id"]  # the cookie is kept: same identity, no new cookie
        assert "set-cookie" not in (await http.get("/webchat/api/me")).headers

        # Someone edits the payload to become another user (or a member): the signature no longer matches.
        value = http.cookies[COOKIE]
        payload = base64.urlsafe_b64encode(json.dumps({"u": "Erin", "m": "Erin"}).encode()).rstrip(b"=").decode()
        forged = f"{payload}.{value.split('.', 1)[1]}"
        with caplog.at_level(logging.WARNING, logger="adapters.webchat.identity"):
            async with browser(stack, Cookie=f"{COOKIE}={forged}") as mallory:
                resp = await mallory.get("/webchat/api/me")
        assert resp.json()["id"] not in ("Erin", who["id"]) and resp.json()["name"] is None
        assert COOKIE in resp.headers["set-cookie"]  # a fresh identity replaces the bad one
        assert "bad signature" in caplog.text and "Traceback" not in caplog.text

        # Garbage is a new browser, never an error.
        for junk in ("", ".", "a.b.c", "x" * 4000, value + "x", '"quoted"', "%ff%fe"):
            async with browser(stack, Cookie=f"{COOKIE}={junk}") as other:
                resp = await other.get("/webchat/api/me")
                assert resp.status_code == 200 and resp.json()["id"] != who["id"], junk

        # A cookie signed with another key (another deployment) is not accepted either.
        other = Identities("open", b"another-key" * 4).sign("Erin", member="Erin")
        async with browser(stack, Cookie=f"{COOKIE}={other}") as mallory:
            assert (await me(mallory))["id"] != "Erin"


@pytest.mark.parametrize(
    ("headers", "secure"),
    [
        ({}, False),
        ({"X-Forwarded-Proto": "https"}, True),
        ({"X-Forwarded-Proto": "https, http"}, True),
        ({"Forwarded": 'for=192.0.2.60;proto="https";by=203.0.113.43'}, True),
        ({"X-Forwarded-Proto": "http"}, False),
    ],
)
async def test_cookie_is_secure_when_a_tls_proxy_says_the_browser_used_https(client, tmp_path, headers, secure):
    async with running_stack(client, tmp_path, webchat_auth="open") as stack, browser(stack, **headers) as http:
        set_cookie = (await http.get("/webchat/api/me")).headers["set-cookie"]
        assert ("Secure" in set_cookie.split("; ")) is secure, set_cookie


async def test_the_same_name_in_two_browsers_is_two_users(client, tmp_path):
    async with (
        running_stack(client, tmp_path, webchat_auth="open") as stack,
        browser(stack) as one,
        browser(stack) as two,
    ):
        sent = (await post(one, "hello from the first alice")).json()
        assert (await post(two, "hello from the second alice", sent["thread"])).status_code == 202
        people = await eventually(
            lambda: stack.state(sent["session_id"]), lambda s: len(s["participants"]) == 2, what="two participants"
        )
        ids = set(people["participants"])
        assert ids == {(await me(one))["id"], (await me(two))["id"]}
        assert [p["name"] for p in people["participants"].values()] == ["alice", "alice"]


def test_secret_is_generated_once_kept_private_and_configurable(tmp_path: Path):
    first = load_secret(tmp_path, None)
    path = tmp_path / "webchat-secret"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and len(first) >= 32
    assert load_secret(tmp_path, None) == first
    assert [p.name for p in tmp_path.iterdir()] == ["webchat-secret"]  # nothing left aside
    assert load_secret(tmp_path, "configured-secret") == b"configured-secret"
    path.write_text("short")
    with pytest.raises(ValueError, match="shorter than 32 characters"):
        load_secret(tmp_path, None)


def test_mode_defaults_and_configuration_errors(tmp_path: Path):
    assert webchat_identities(Settings(data_dir=tmp_path)).mode == "invite"  # `threadwork dev` makes it open
    assert webchat_identities(Settings(data_dir=tmp_path, webchat_auth="open")).mode == "open"
    with pytest.raises(ValueError, match="THREADWORK_WEBCHAT_AUTH=proxy needs THREADWORK_WEBCHAT_PROXY_HEADER"):
        Settings(data_dir=tmp_path, webchat_auth="proxy")
    with pytest.raises(ValueError, match="Input should be 'open', 'invite' or 'proxy'"):
        Settings(data_dir=tmp_path, webchat_auth="everyone")


# ---- membership ---------------------------------------------------------------------


async def test_guest_false_never_lifts_the_guest_limit(client, tmp_path):
    async with (
        running_stack(client, tmp_path, webchat_auth="invite", guest_message_limit=2) as stack,
        browser(stack) as http,
    ):
        assert (await me(http))["member"] is False
        sent = (await post(http, "one", guest=False)).json()
        for text in ("two", "three"):
            assert (await post(http, text, sent["thread"], guest=False)).status_code == 202
        texts = await eventually(
            lambda: stack.bot_messages(sent["thread"]), lambda ms: len(ms) >= 3, what="three replies"
        )
        assert "reached the guest limit of 2 messages" in texts[2]["text"]
        [guest] = (await stack.state(sent["session_id"]))["participants"].values()
        assert guest["is_guest"] is True and guest["message_count"] == 2


async def test_a_member_may_volunteer_to_be_a_guest_and_uploads_follow_the_cookie(client, tmp_path):
    async with running_stack(client, tmp_path, webchat_auth="invite", guest_message_limit=1) as stack:
        erin = await stack.user("Erin")
        sent = (await post(erin, "hello", user="someone else", guest=True)).json()
        [p] = (await participants(stack, sent["session_id"]))["participants"].values()
        assert p == {"id": "Erin", "name": "Erin", "is_guest": True, "message_count": 1}

        async with browser(stack) as visitor:
            up = await visitor.post(
                "/webchat/api/uploads",
                data={"channel": "general", "user": "Erin", "guest": "false"},
                files={"file": ("notes.md", b"# notes\n", "text/markdown")},
            )
            assert up.status_code == 202, up.text
            visitor_id = (await me(visitor))["id"]
        [p] = (await participants(stack, up.json()["session_id"]))["participants"].values()
        assert p["id"] == visitor_id and p["name"] == "Erin" and p["is_guest"] is True


async def test_proxy_mode_trusts_the_configured_header_only(client, tmp_path):
    overrides = {"webchat_auth": "proxy", "webchat_proxy_header": "X-Forwarded-Email", "guest_message_limit": 1}
    async with running_stack(client, tmp_path, **overrides) as stack:
        async with browser(stack, **{"X-Forwarded-Email": "erin@example.com"}) as erin, browser(stack) as anonymous:
            who = await me(erin)
            assert who == {**who, "mode": "proxy", "id": "erin@example.com", "name": "erin@example.com", "member": True}
            sent = (await post(erin, "hello", user="the commander")).json()
            [p] = (await participants(stack, sent["session_id"]))["participants"].values()
            assert p == {"id": "erin@example.com", "name": "erin@example.com", "is_guest": False, "message_count": 1}

            assert (await me(anonymous))["member"] is False
            other = (await post(anonymous, "hi", user="erin@example.com", guest=False)).json()
            [p] = (await participants(stack, other["session_id"]))["participants"].values()
            assert p["id"] != "erin@example.com" and p["is_guest"] is True

            # Sign-in links belong to invite mode; here the proxy says who you are.
            invite = await Invites(stack.store).create("Mallory")
            refused = await anonymous.post("/webchat/api/signin", json={"token": invite.token})
            assert refused.status_code == 400 and "sign-in proxy" in refused.json()["error"]


# ---- invites ------------------------------------------------------------------------


async def test_invite_link_signs_in_once_and_expires(client, tmp_path):
    async with running_stack(client, tmp_path, webchat_auth="invite") as stack:
        invites = Invites(stack.store)
        invite = await invites.create("Erin")
        assert invite.link("https://chat.example.com/").startswith("https://chat.example.com/webchat/signin#")
        page = await stack.http.get("/webchat/signin")
        assert page.status_code == 200 and "signin.js" in page.text
        async with browser(stack) as first, browser(stack) as second:
            ok = await first.post("/webchat/api/signin", json={"token": invite.token})
            assert ok.status_code == 200 and ok.json()["name"] == "Erin" and "HttpOnly" in ok.headers["set-cookie"]
            assert (await me(first))["id"] == "Erin"
            again = await second.post("/webchat/api/signin", json={"token": invite.token})
            assert again.status_code == 403 and "already used" in again.json()["error"]
            assert (await me(second))["member"] is False

            expired = await invites.create("Finn")
            await stack.store.db.execute("UPDATE invites SET expires_at = 0 WHERE name = 'Finn'")
            await stack.store.db.commit()
            late = await second.post("/webchat/api/signin", json={"token": expired.token})
            assert late.status_code == 403 and "expired" in late.json()["error"]
            unknown = await second.post("/webchat/api/signin", json={"token": "not-a-token"})
            assert unknown.status_code == 403 and "not valid" in unknown.json()["error"]
            assert (await second.post("/webchat/api/signin", json={})).status_code == 400


def _cli(tmp_path: Path, *args: str, action: str = "invite") -> subprocess.CompletedProcess:
    env = {**os.environ, "THREADWORK_DATA_DIR": str(tmp_path), "THREADWORK_PORT": "3999"}
    return subprocess.run(
        [sys.executable, "-m", "bots.cli", "webchat", action, *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


async def test_cli_prints_a_one_time_link_the_gateway_redeems(client, tmp_path):
    done = await asyncio.to_thread(_cli, tmp_path, "Erin")
    assert done.returncode == 0, done.stderr
    link = done.stdout.strip()
    assert link.startswith("http://127.0.0.1:3999/webchat/signin#")
    bad = await asyncio.to_thread(_cli, tmp_path, "webchat-0123")
    assert bad.returncode == 2 and bad.stdout == ""
    assert bad.stderr.strip().splitlines() == [
        "error: the member's name may not start with 'webchat-' (browser ids do)"
    ]

    async with running_stack(client, tmp_path, webchat_auth="invite") as stack, browser(stack) as http:
        ok = await http.post("/webchat/api/signin", json={"token": link.split("#", 1)[1]})
        assert ok.status_code == 200 and (await me(http))["id"] == "Erin"


async def test_a_revoked_member_is_a_guest_under_a_new_id_until_invited_again(client, tmp_path):
    async with running_stack(client, tmp_path, webchat_auth="invite") as stack, browser(stack) as http:
        invites = Invites(stack.store)
        first, spare = await invites.create("Erin"), await invites.create("Erin")
        assert (await http.post("/webchat/api/signin", json={"token": first.token})).status_code == 200
        assert (await me(http))["member"] is True

        done = await asyncio.to_thread(_cli, tmp_path, "Erin", action="revoke")
        assert done.returncode == 0, done.stderr
        assert done.stdout.startswith("revoked Erin: 1 unused sign-in link(s) deleted")

        # Within the gateway's refresh: a guest, and no longer Erin (whom responder lists may name).
        now = await eventually(lambda: me(http), lambda who: who["member"] is False, what="the revocation")
        assert now["id"] != "Erin" and now["id"].startswith("webchat-")
        sent = (await post(http, "hello", user="Erin", guest=False)).json()
        [p] = (await participants(stack, sent["session_id"]))["participants"].values()
        assert p["id"] == now["id"] and p["is_guest"] is True
        refused = await http.post("/webchat/api/signin", json={"token": spare.token})
        assert refused.status_code == 403 and "not valid" in refused.json()["error"]

        # A new invite after the revocation signs Erin in again.
        again = await invites.create("Erin")
        assert (await http.post("/webchat/api/signin", json={"token": again.token})).status_code == 200
        assert (await me(http))["member"] is True and (await me(http))["id"] == "Erin"


# ---- cross-site requests --------------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        ({"Origin": "http://evil.example"}, "Origin 'http://evil.example' is not this server"),
        ({"Origin": "null"}, "Origin 'null' is not this server"),
        ({"Sec-Fetch-Site": "cross-site"}, "Sec-Fetch-Site: cross-site"),
        ({"Sec-Fetch-Site": "same-site", "Origin": "http://chat.example.com"}, "Sec-Fetch-Site: same-site"),
    ],
)
async def test_cross_site_requests_are_refused_with_a_reason(stack, headers, reason):
    erin = await stack.user("Erin")
    sent = await stack.say("hello", user="Erin")
    routes = [
        ("/webchat/api/messages", {"json": {"channel": "general", "user": "Erin", "text": "forged"}}),
        (
            "/webchat/api/actions",
            {"json": {"channel": "general", "message_id": sent["message_id"], "action_id": "x", "user": "Erin"}},
        ),
        (
            "/webchat/api/uploads",
            {"data": {"channel": "general", "user": "Erin"}, "files": {"file": ("a.md", b"# a\n")}},
        ),
        ("/webchat/api/signin", {"json": {"token": "whatever"}}),
    ]
    for path, body in routes:
        resp = await erin.post(path, headers=headers, **body)
        assert resp.status_code == 403, (path, resp.text)
        assert resp.json()["error"].startswith("cross-site request refused") and reason in resp.json()["error"]
    assert [m["text"] for m in await stack.store.messages("general") if not m["is_bot"]] == ["hello"]


async def test_same_origin_and_non_browser_requests_pass(stack):
    erin = await stack.user("Erin")
    own = {"Origin": stack.base_url, "Sec-Fetch-Site": "same-origin"}
    assert (await post(erin, "from the page", headers=own)).status_code == 202
    assert (await post(erin, "from curl")).status_code == 202  # no Origin: not a browser
    proxied = {"Origin": "https://chat.example.com", "X-Forwarded-Host": "chat.example.com"}
    assert (await post(erin, "through a proxy", headers=proxied)).status_code == 202
