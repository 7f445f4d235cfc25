"""The Bot Connector client's HTTP (adapters/teams/connector_http.py), against the fake connector on loopback.

One call is one request, and a refusal or a lost connection reaches the turn's retry as a
PlatformError that says whether waiting can help and for how long (Retry-After). Before, a
refused proactive post surfaced as botbuilder's turn error, which said neither.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time

import pytest
from botframework.connector.auth import MicrosoftAppCredentials

from adapters.base import PlatformError
from tests.teams.fake_connector import FakeConnector
from tests.teams.streaming_support import conversation, teams_platform, until
from workflows.contracts import Reply


async def test_a_post_is_one_request(connector: FakeConnector, tmp_path):
    key, context = conversation(connector, "a:http-1", "groupChat")
    async with teams_platform(connector, tmp_path) as platform:
        ref = await platform.post(key, Reply(text="one request"), idempotency_key="http-1", context=context)
    [post] = connector.posts("a:http-1")
    assert post.text == "one request" and ref.message_id == post.new_id
    assert post.authorization is None  # anonymous mode: the credentials say no token


@pytest.mark.parametrize("status", [500, 502, 503, 408])
async def test_a_server_error_is_one_request_and_retryable(connector: FakeConnector, tmp_path, status: int):
    key, context = conversation(connector, f"a:http-{status}", "groupChat")
    connector.down_until, connector.down_status = time.monotonic() + 60, status
    async with teams_platform(connector, tmp_path) as platform:
        with pytest.raises(PlatformError) as raised:
            await platform.post(key, Reply(text="refused"), idempotency_key=f"http-{status}", context=context)
    assert connector.refused == 1
    assert raised.value.retryable and str(status) in str(raised.value)


async def test_a_429_keeps_its_status_and_retry_after(connector: FakeConnector, tmp_path):
    key, context = conversation(connector, "a:http-429", "groupChat")
    connector.down_until, connector.down_status, connector.down_retry_after = time.monotonic() + 60, 429, "7"
    async with teams_platform(connector, tmp_path) as platform:
        with pytest.raises(PlatformError) as raised:
            await platform.post(key, Reply(text="throttled"), idempotency_key="http-429", context=context)
    assert connector.refused == 1
    assert raised.value.retryable and raised.value.retry_after == 7.0


async def test_a_refusal_for_good_is_not_retryable(connector: FakeConnector, tmp_path):
    key, context = conversation(connector, "a:http-403", "groupChat")
    connector.down_until, connector.down_status = time.monotonic() + 60, 403
    async with teams_platform(connector, tmp_path) as platform:
        with pytest.raises(PlatformError) as raised:
            await platform.post(key, Reply(text="forbidden"), idempotency_key="http-403", context=context)
    assert connector.refused == 1
    assert not raised.value.retryable and "403" in str(raised.value)


async def test_a_connector_that_cannot_be_reached_is_a_retryable_error(connector: FakeConnector, tmp_path):
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        nowhere = f"http://127.0.0.1:{closed.getsockname()[1]}/"
    connector.url = nowhere  # the conversation's serviceUrl: a port nothing listens on
    key, context = conversation(connector, "a:http-gone", "groupChat")
    async with teams_platform(connector, tmp_path) as platform:
        with pytest.raises(PlatformError) as raised:
            await asyncio.wait_for(
                platform.post(key, Reply(text="lost"), idempotency_key="http-gone", context=context), 30
            )
    assert raised.value.retryable and "Error occurred in request" in str(raised.value)


async def test_a_bot_with_credentials_fetches_its_token_off_the_event_loop(
    connector: FakeConnector, tmp_path, monkeypatch
):
    # Azure AD cannot run here: get_access_token, which asks it over HTTP when the token is due, is
    # the boundary. This one answers only once the event loop has run on while it waited, which a
    # fetch on the loop itself would prevent: the post would then carry the other token.
    asked, loop_ran_on, threads = threading.Event(), threading.Event(), []

    def fetch(self, force_refresh=False):
        threads.append(threading.get_ident())
        asked.set()
        return "outbound-token" if loop_ran_on.wait(timeout=10) else "the-loop-was-blocked"

    monkeypatch.setattr(MicrosoftAppCredentials, "get_access_token", fetch)
    key, context = conversation(connector, "a:http-token", "groupChat")
    async with teams_platform(
        connector, tmp_path, app_id="6f1e3c2a-0000-4d5e-8f90-123456789abc", app_password="pw"
    ) as platform:
        posting = asyncio.create_task(
            platform.post(key, Reply(text="signed"), idempotency_key="http-token", context=context)
        )
        await until("the token to be asked for", asked.is_set)
        loop_ran_on.set()
        await posting
    [post] = connector.posts("a:http-token")
    assert post.authorization == "Bearer outbound-token"
    assert threading.get_ident() not in threads
