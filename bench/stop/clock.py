"""Moments the bench waits for, stamped when the platform's side sees them (not when the bench wakes).

Each fake platform calls ``poke()`` after every request it handled (or SSE event it read);
``expect(check)`` resolves with ``time.perf_counter()`` of the first poke at which ``check()``
holds. Everything runs on the bench's one event loop, so a check never races a request.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable


class Clock:
    def __init__(self) -> None:
        self._pending: list[tuple[Callable[[], bool], asyncio.Future[float]]] = []

    def expect(self, check: Callable[[], bool]) -> asyncio.Future[float]:
        """A future of the first moment ``check()`` holds (at once if it holds already)."""
        future: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self._pending.append((check, future))
        self.poke()
        return future

    def poke(self) -> None:
        now = time.perf_counter()
        still = []
        for check, future in self._pending:
            if future.done():
                continue
            if check():
                future.set_result(now)
            else:
                still.append((check, future))
        self._pending = still

    def fail(self, error: BaseException) -> None:
        """The source of pokes is gone: every pending wait ends with ``error``."""
        for _, future in self._pending:
            if not future.done():
                future.set_exception(error)
        self._pending = []


async def bounded(future: asyncio.Future[float], timeout: float, what: str) -> float:
    """``future``'s moment, or a clear error after ``timeout`` seconds (a bound, not a goal)."""
    try:
        return await asyncio.wait_for(future, timeout)
    except TimeoutError:
        raise RuntimeError(f"{what} did not happen within {timeout:.0f} s") from None
