"""Helpers for the event route tests: the token, payload builders, waiting on the events channel."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

TOKEN = "events-token-for-tests"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
EVENTS_CHANNEL = "documents"


def s3_record(event: str, bucket: str, key: str, sequencer: str, size: int | None = None) -> dict[str, Any]:
    obj: dict[str, Any] = {"key": key, "eTag": "0123456789abcdef", "sequencer": sequencer}
    if size is not None:
        obj["size"] = size
    return {
        "eventVersion": "2.1",
        "eventSource": "aws:s3",
        "awsRegion": "us-east-1",
        "eventTime": "2026-11-26T01:00:00.000Z",
        "eventName": event,
        "s3": {
            "s3SchemaVersion": "1.0",
            "configurationId": "threadwork",
            "bucket": {"name": bucket, "arn": f"arn:aws:s3:::{bucket}"},
            "object": obj,
        },
    }


async def wait_until(check: Callable[[], Awaitable[Any]], what: str, timeout: float = 30) -> Any:
    """Poll ``check`` until it returns something truthy; fail naming ``what`` and the last value."""
    deadline = asyncio.get_running_loop().time() + timeout
    last = None
    while True:
        last = await check()
        if last:
            return last
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting for {what}; last saw {last!r}")
        await asyncio.sleep(0.05)


async def channel_texts(stack: Any, channel: str = EVENTS_CHANNEL) -> list[str]:
    return [m["text"] for m in await stack.store.messages(channel) if m["is_bot"]]
