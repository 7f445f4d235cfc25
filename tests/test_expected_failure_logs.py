"""Expected failures log one WARNING line per attempt; tracebacks are for bugs (issue 10).

An unreachable URL used to log about 360 lines: the Temporal worker logged every attempt
at WARNING with the traceback of the ApplicationError and its chained httpx cause.
Runs the real worker and web chat against a closed loopback port and a local file server.
"""

from __future__ import annotations

import asyncio
import logging

import pytest
from temporalio.exceptions import ApplicationError, ApplicationErrorCategory
from temporalio.testing import ActivityEnvironment

from adapters.base import PlatformRegistry
from tests.support.httpserver import local_server, serve_files
from tests.support.stack import free_port
from workflows.activities.models import PostRequest
from workflows.activities.platform import PlatformActivities
from workflows.contracts import ConversationKey, Reply
from workflows.documents import FETCH_RETRY

DOCS_LOGGER = "workflows.activities.documents"


async def wait_for_text(stack, thread: str, prefix: str, timeout: float) -> list[str]:
    """The thread's bot messages once one starts with ``prefix`` (bounded by ``timeout``)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        texts = [m["text"] for m in await stack.bot_messages(thread)]
        if any(t.startswith(prefix) for t in texts):
            return texts
        assert asyncio.get_running_loop().time() < deadline, f"no message starting {prefix!r} in {texts}"
        await asyncio.sleep(0.1)


def loud_records(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.levelno >= logging.WARNING]


def assert_one_line_each(records: list[logging.LogRecord]) -> None:
    for record in records:
        assert record.exc_info is None, (record.name, record.getMessage())
        assert "\n" not in record.getMessage(), record.getMessage()


async def test_unreachable_url_logs_one_line_per_attempt(stack, caplog: pytest.LogCaptureFixture):
    caplog.set_level(logging.INFO)
    url = f"http://127.0.0.1:{free_port()}/runbook.txt"
    sent = await stack.say(f"summarize {url}")
    await wait_for_text(
        stack, sent["thread"], "I couldn't process runbook.txt: 127.0.0.1 could not be reached", timeout=60
    )

    loud = loud_records(caplog)
    assert_one_line_each(loud)
    fetch_warnings = [r for r in loud if r.name == DOCS_LOGGER]
    assert len(fetch_warnings) == FETCH_RETRY.maximum_attempts, [r.getMessage() for r in fetch_warnings]
    assert all("runbook.txt" in r.getMessage() and "FetchError" in r.getMessage() for r in fetch_warnings)
    assert "Traceback" not in caplog.text


async def test_unsupported_document_type_logs_one_line(stack, caplog: pytest.LogCaptureFixture):
    caplog.set_level(logging.INFO)
    async with local_server(serve_files({"/diagram.png": (b"\x89PNG\r\n\x1a\n" + b"\0" * 64, "image/png")})) as server:
        sent = await stack.say(f"summarize {server.base_url}/diagram.png")
        await wait_for_text(
            stack, sent["thread"], "I couldn't process diagram.png: I can't read image/png files", timeout=30
        )

    loud = loud_records(caplog)
    assert_one_line_each(loud)
    warned = [r.getMessage() for r in loud if r.name == DOCS_LOGGER and "UnsupportedDocument" in r.getMessage()]
    assert len(warned) == 1 and "diagram.png" in warned[0], warned  # non-retryable: one attempt, one line
    assert "Traceback" not in caplog.text


async def test_a_platform_refusal_is_one_benign_line(caplog: pytest.LogCaptureFixture):
    """No adapter for the conversation's platform: the activity fails as BENIGN, without a chained cause."""
    caplog.set_level(logging.WARNING)
    acts = PlatformActivities(PlatformRegistry())
    req = PostRequest(
        key=ConversationKey(platform="slack", workspace="T1", channel="C1"), reply=Reply(text="hi"), idempotency_key="k"
    )
    with pytest.raises(ApplicationError) as err:
        await ActivityEnvironment().run(acts.post_reply, req)
    assert err.value.type == "PlatformError" and err.value.non_retryable
    assert err.value.category == ApplicationErrorCategory.BENIGN and err.value.__cause__ is None
    loud = loud_records(caplog)
    assert_one_line_each(loud)
    assert [r.name for r in loud] == ["workflows.activities.platform"] and "no adapter for platform 'slack'" in loud[
        0
    ].getMessage()
