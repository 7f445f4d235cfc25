"""The event loop the threadwork processes run on: uvloop by default, asyncio's own on request.

Every message crosses the gateway's and the worker's event loops many times (HTTP in and out,
the Temporal bridge's callbacks, the SQLite threads' results). uvloop runs those hops in C:
in a Slack burst it cut the CPU per message by about 7-10% in both process shapes
(docs/performance.md, step 16). ``THREADWORK_EVENT_LOOP=asyncio`` goes back to the standard
loop, for a platform without uvloop (Windows) or to rule the loop out when chasing a problem.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, Literal, TypeVar

from bots.errors import StartupError

T = TypeVar("T")

EventLoopName = Literal["uvloop", "asyncio"]


def run(coro: Coroutine[Any, Any, T], loop: EventLoopName = "uvloop") -> T:
    """``asyncio.run`` on the chosen loop (the same Runner: Ctrl-C cancels the main task)."""
    if loop == "uvloop":
        try:
            import uvloop
        except ImportError as err:  # not installed here (uvloop has no Windows build)
            coro.close()
            raise StartupError(
                "THREADWORK_EVENT_LOOP is uvloop, but uvloop is not installed here: install it, or set"
                " THREADWORK_EVENT_LOOP=asyncio"
            ) from err
        with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
            return runner.run(coro)
    return asyncio.run(coro)


def name_of(loop: asyncio.AbstractEventLoop) -> str:
    """Which loop a process runs on, "uvloop" or "asyncio" (its startup log says it)."""
    return "uvloop" if type(loop).__module__.partition(".")[0] == "uvloop" else "asyncio"
