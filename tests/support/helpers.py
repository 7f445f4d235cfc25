"""Small waiting helpers for workflow tests (poll until a condition holds, fail with what is there)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any


async def eventually(
    probe: Callable[[], Awaitable[Any]], check: Callable[[Any], bool], timeout: float = 20, what: str = ""
) -> Any:
    """Call ``probe`` until ``check(result)`` is true; raise AssertionError with the last result otherwise."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        value = await probe()
        if check(value):
            return value
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting for {what or 'condition'}; last value: {value!r}")
        await asyncio.sleep(0.05)
