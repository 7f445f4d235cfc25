"""Bot Framework JWT authentication with TEAMS_APP_ID set: real RS256 tokens, real SDK checks.

The SDK's metadata source is pointed at a local OpenID server whose key the test
generated. Outbound calls ask Azure AD for a token, which cannot run here: only
MicrosoftAppCredentials.get_access_token is replaced (the HTTP boundary).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from botframework.connector.auth import JwtTokenExtractor, MicrosoftAppCredentials
from botframework.connector.auth.channel_validation import ChannelValidation
from temporalio.service import RPCError

from tests.support.stack import Stack, running_stack
from tests.teams.activities import TENANT, activity
from tests.teams.conftest import send
from tests.teams.openid import OpenIdServer, jwk, new_key, token

APP_ID = "6f1e3c2a-1b2c-4d5e-8f90-123456789abc"
KID = "test-key-1"
KEY = new_key()
OTHER_KEY = new_key()


@pytest.fixture
def openid(monkeypatch) -> OpenIdServer:
    with OpenIdServer([jwk(KEY, KID, endorsements=["msteams"])]) as server:
        monkeypatch.setattr(ChannelValidation, "open_id_metadata_endpoint", f"{server.url}/openid")
        monkeypatch.setattr(JwtTokenExtractor, "metadataCache", {})  # the SDK's process-wide key cache
        monkeypatch.setattr(
            MicrosoftAppCredentials, "get_access_token", lambda self, force_refresh=False: "outbound-token"
        )
        yield server


@pytest_asyncio.fixture
async def secured(client, tmp_path, connector, openid) -> AsyncIterator[Stack]:
    async with running_stack(
        client, tmp_path, teams_app_id=APP_ID, teams_app_password="secret", teams_service_url=connector.url
    ) as stack:
        yield stack


async def assert_no_session(stack: Stack, conv: str) -> None:
    with pytest.raises(RPCError):
        await stack.client.get_workflow_handle(f"teams:{TENANT}:{conv}").describe()


async def test_valid_token_is_accepted_and_replies_carry_the_bots_token(secured, connector):
    conv = "a:secure-chat"
    body = activity(connector.url, conv, text="hello securely")
    bearer = token(KEY, KID, audience=APP_ID, service_url=connector.url)
    resp = await send(secured, body, Authorization=f"Bearer {bearer}")
    assert resp.status_code == 201, resp.text
    [reply] = await connector.wait_for(lambda: connector.posts(conv), 1)
    assert "message 1" in reply.text
    assert reply.authorization == "Bearer outbound-token"


@pytest.mark.parametrize(
    "case",
    [
        "missing",
        "malformed",
        "not-bearer",
        "wrong-audience",
        "expired",
        "unknown-kid",
        "other-key",
        "wrong-serviceurl",
        "no-endorsement",
    ],
)
async def test_bad_tokens_are_401_and_reach_no_session(secured, connector, case):
    conv = f"a:refused-{case}"
    body = activity(connector.url, conv, text="let me in")
    good = {"audience": APP_ID, "service_url": connector.url}
    headers = {
        "missing": {},
        "malformed": {"Authorization": "Bearer not.a.jwt"},
        "not-bearer": {"Authorization": "Basic " + token(KEY, KID, **good)},
        "wrong-audience": {
            "Authorization": "Bearer " + token(KEY, KID, audience="someone-else", service_url=connector.url)
        },
        "expired": {"Authorization": "Bearer " + token(KEY, KID, expires_in=-3600, **good)},
        "unknown-kid": {"Authorization": "Bearer " + token(KEY, "no-such-kid", **good)},
        "other-key": {"Authorization": "Bearer " + token(OTHER_KEY, KID, **good)},
        "wrong-serviceurl": {
            "Authorization": "Bearer " + token(KEY, KID, audience=APP_ID, service_url="https://evil.example/")
        },
        "no-endorsement": {"Authorization": "Bearer " + token(KEY, KID, **good)},
    }[case]
    if case == "no-endorsement":
        body["channelId"] = "webchat"  # the key is endorsed for msteams only
    resp = await send(secured, body, **headers)
    assert resp.status_code == 401, (case, resp.status_code, resp.text)
    assert connector.calls == []
    await assert_no_session(secured, conv)


async def test_without_app_id_the_endpoint_is_anonymous_and_says_so(client, tmp_path, connector, caplog):
    with caplog.at_level(logging.WARNING, logger="adapters.teams.adapter"):
        async with running_stack(client, tmp_path, teams_enabled=True, teams_service_url=connector.url) as stack:
            conv = "a:anonymous-chat"
            assert (await send(stack, activity(connector.url, conv, text="hi"))).status_code == 201
            [reply] = await connector.wait_for(lambda: connector.posts(conv), 1)
            assert reply.authorization is None
    assert any("ANONYMOUS" in r.getMessage() for r in caplog.records)
