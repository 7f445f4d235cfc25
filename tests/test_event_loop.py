"""The processes' event loop (bots/event_loop.py): uvloop unless THREADWORK_EVENT_LOOP says asyncio."""

from __future__ import annotations

import asyncio
import signal
import sys
import warnings

import pytest
import uvloop

from bots import event_loop
from bots.config import Settings
from bots.errors import StartupError, one_line


async def _loop_type() -> type:
    await asyncio.sleep(0)
    return type(asyncio.get_running_loop())


async def _loop_name() -> str:
    return event_loop.name_of(asyncio.get_running_loop())


def test_uvloop_is_the_default():
    assert Settings().event_loop == "uvloop"
    assert event_loop.run(_loop_type()) is uvloop.Loop
    assert event_loop.run(_loop_name()) == "uvloop"


def test_asyncio_runs_the_standard_loop():
    loop_type = event_loop.run(_loop_type(), "asyncio")
    assert loop_type is not uvloop.Loop
    assert issubclass(loop_type, asyncio.BaseEventLoop)
    assert event_loop.run(_loop_name(), "asyncio") == "asyncio"


def test_ctrl_c_cancels_the_main_task_as_asyncio_run_does():
    """The Runner's SIGINT handling: the main task is cancelled (its cleanup runs), then KeyboardInterrupt."""
    cleaned_up = []

    async def serve() -> None:
        try:
            asyncio.get_running_loop().call_soon(signal.raise_signal, signal.SIGINT)
            await asyncio.sleep(10)
        finally:
            cleaned_up.append(True)

    with pytest.raises(KeyboardInterrupt):
        event_loop.run(serve())
    assert cleaned_up == [True]


def test_missing_uvloop_is_a_one_line_startup_error(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setitem(sys.modules, "uvloop", None)  # what `import uvloop` meets where it is not installed
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the coroutine is closed, not left "never awaited"
        with pytest.raises(StartupError) as raised:
            event_loop.run(_loop_type())
    assert one_line(raised.value) == (
        "THREADWORK_EVENT_LOOP is uvloop, but uvloop is not installed here: install it, or set"
        " THREADWORK_EVENT_LOOP=asyncio"
    )
