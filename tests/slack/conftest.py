"""Fixtures for the Slack adapter: a fake Slack Web API and a real stack pointed at it."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest_asyncio
from temporalio.client import Client

from tests.slack.fake_slack import BOT_TOKEN, FakeSlack
from tests.slack.support import SIGNING_SECRET, SlackSim
from tests.support.stack import Stack, running_stack


@pytest_asyncio.fixture
async def fake_slack() -> AsyncIterator[FakeSlack]:
    fake = FakeSlack()
    await fake.start()
    fake.add_user("UALICE", "Alice")
    fake.add_user("UBOB", "Bob")
    fake.add_user("UGUEST", "Gus Guest", guest=True)
    try:
        yield fake
    finally:
        await fake.stop()


@contextlib.asynccontextmanager
async def slack_stack(
    client: Client, data_dir: Path, fake: FakeSlack, **overrides: Any
) -> AsyncIterator[tuple[Stack, SlackSim]]:
    settings = {
        "slack_bot_token": BOT_TOKEN,
        "slack_signing_secret": SIGNING_SECRET,
        "slack_api_url": fake.api_url,
        **overrides,
    }
    async with running_stack(client, data_dir, **settings) as stack:
        yield stack, SlackSim(stack.http, fake)


@pytest_asyncio.fixture
async def slack(client: Client, tmp_path: Path, fake_slack: FakeSlack) -> AsyncIterator[tuple[Stack, SlackSim]]:
    async with slack_stack(client, tmp_path, fake_slack) as pair:
        yield pair
