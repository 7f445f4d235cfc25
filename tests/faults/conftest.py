"""Fixtures of the fault tests: a fake Slack Web API and Slack request signing over raw bytes."""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import AsyncIterator

import pytest_asyncio

from tests.slack.fake_slack import FakeSlack
from tests.slack.support import SIGNING_SECRET


def slack_sign(body: bytes, secret: str = SIGNING_SECRET) -> dict[str, str]:
    ts = str(int(time.time()))
    digest = hmac.new(secret.encode(), b"v0:" + ts.encode() + b":" + body, hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": f"v0={digest}"}


@pytest_asyncio.fixture
async def fake_slack() -> AsyncIterator[FakeSlack]:
    fake = FakeSlack()
    await fake.start()
    fake.add_user("UALICE", "Alice")
    try:
        yield fake
    finally:
        await fake.stop()
