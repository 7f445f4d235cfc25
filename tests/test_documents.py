"""Document fetch, extraction (text, HTML, PDF, DOCX), size limit and summaries against real local servers."""

from __future__ import annotations

import asyncio

import pytest
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from adapters.slack.file_fetcher import SlackFileFetcher
from tests.fake_openai import fake_openai
from tests.support.documents import REPORT_LINES, REPORT_TEXT, make_docx, make_pdf
from tests.support.helpers import eventually
from tests.support.httpserver import local_server, serve_files
from tests.support.stack import free_port
from workflows.activities.documents import DocumentActivities, ExtractedDocument
from workflows.activities.extract import extract_text
from workflows.activities.replies import LLMConfig
from workflows.contracts import FileRef
from workflows.documents import failure_sentence

PDF = "application/pdf"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def test_pdf_written_by_hand_is_extracted():
    text = extract_text("report.pdf", "", make_pdf(REPORT_LINES))
    for line in REPORT_LINES:
        assert line in text


def test_docx_from_python_docx_is_extracted():
    text = extract_text(
        "notes.docx", "application/octet-stream", make_docx("Release notes", ["Version two adds search."])
    )
    assert "Release notes" in text and "Version two adds search." in text


async def test_fetch_extracts_each_type_over_http():
    files = {
        "/report.pdf": (make_pdf(REPORT_LINES), PDF),
        "/notes.docx": (make_docx("Release notes", ["Version two adds search to every page."]), DOCX),
        "/page.html": (
            b"<html><title>Status page</title><script>x()</script><p>All systems &amp; services run.</p></html>",
            "text/html",
        ),
        "/plain": (REPORT_TEXT.encode(), "text/plain; charset=utf-8"),
        "/image.png": (b"\x89PNG\r\n", "image/png"),
    }
    acts = DocumentActivities(max_bytes=1_000_000)
    env = ActivityEnvironment()
    async with local_server(serve_files(files)) as server:
        pdf = await env.run(acts.fetch_and_extract, FileRef(name="report.pdf", url=f"{server.base_url}/report.pdf"))
        docx = await env.run(acts.fetch_and_extract, FileRef(name="notes.docx", url=f"{server.base_url}/notes.docx"))
        page = await env.run(acts.fetch_and_extract, FileRef(name="page.html", url=f"{server.base_url}/page.html"))
        plain = await env.run(acts.fetch_and_extract, FileRef(name="plain", url=f"{server.base_url}/plain"))
        with pytest.raises(ApplicationError) as unsupported:
            await env.run(acts.fetch_and_extract, FileRef(name="image.png", url=f"{server.base_url}/image.png"))
        with pytest.raises(ApplicationError) as missing:
            await env.run(acts.fetch_and_extract, FileRef(name="gone.txt", url=f"{server.base_url}/gone.txt"))
    assert "twelve percent" in pdf.text
    assert "Version two adds search" in docx.text
    assert "All systems & services run." in page.text and "x()" not in page.text
    assert plain.text == REPORT_TEXT
    assert unsupported.value.type == "UnsupportedDocument" and "image/png" in unsupported.value.message
    assert missing.value.type == "FetchError" and missing.value.message == "127.0.0.1 answered HTTP 404 Not Found"
    assert (
        unsupported.value.message.startswith("I can't read image/png files")
        and "image.png" not in unsupported.value.message
    )


async def test_unreachable_host_is_one_plain_clause_without_errno_text():
    """What the user reads after "I couldn't process x.txt: " (the exception's own words go to the log)."""
    port = free_port()  # nothing listens there
    with pytest.raises(ApplicationError) as refused:
        await ActivityEnvironment().run(
            DocumentActivities().fetch_and_extract, FileRef(name="x.txt", url=f"http://127.0.0.1:{port}/x.txt")
        )
    assert refused.value.message == "127.0.0.1 could not be reached" and refused.value.type == "FetchError"
    assert (
        failure_sentence("x.txt", refused.value.message) == "I couldn't process x.txt: 127.0.0.1 could not be reached."
    )
    # A reason that already names the file is not prefixed with it again.
    assert failure_sentence("a.txt", "a.txt is empty") == "A.txt is empty."


async def test_oversize_document_gets_a_clear_message():
    big = b"a" * 5000
    acts = DocumentActivities(max_bytes=4096)
    async with local_server(serve_files({"/big.txt": (big, "text/plain")})) as server:
        with pytest.raises(ApplicationError) as err:
            await ActivityEnvironment().run(
                acts.fetch_and_extract, FileRef(name="big.txt", url=f"{server.base_url}/big.txt")
            )
    assert err.value.type == "DocumentTooLarge" and err.value.non_retryable
    assert err.value.message == "it is larger than the 4 KB document limit (THREADWORK_DOCUMENT_MAX_BYTES)"


async def test_slack_file_is_fetched_with_the_bot_token_and_only_from_slack():
    files = {
        "/files-pri/T1-F1/notes.txt": (b"Slack notes\nThe deploy moved to Tuesday after the review.", "text/plain")
    }
    async with local_server(serve_files(files, bearer="xoxb-test")) as server:
        acts = DocumentActivities(fetchers={"slack": SlackFileFetcher("xoxb-test", f"{server.base_url}/api/")})
        got = await ActivityEnvironment().run(
            acts.fetch_and_extract,
            FileRef(name="notes.txt", url=f"{server.base_url}/files-pri/T1-F1/notes.txt", source="slack"),
        )
        with pytest.raises(ApplicationError) as elsewhere:
            await ActivityEnvironment().run(
                acts.fetch_and_extract, FileRef(name="x.txt", url="http://127.0.0.2:9/x.txt", source="slack")
            )
        assert server.requests[-1]["headers"]["Authorization"] == "Bearer xoxb-test"
    assert "moved to Tuesday" in got.text
    assert "not a Slack file address" in elsewhere.value.message


async def test_configured_llm_writes_the_summary():
    async with fake_openai() as llm:
        llm.answer = "Storage report Q3\nStorage grew 12%. Backups never failed."
        acts = DocumentActivities(llm=LLMConfig(llm.base_url, "test-model", "key"))
        summary = await ActivityEnvironment().run(
            acts.summarize, ExtractedDocument(name="report.pdf", text=REPORT_TEXT)
        )
    [sent] = [r["body"] for r in llm.requests]
    assert sent["model"] == "test-model"
    assert sent["messages"][1]["content"].startswith("Document report.pdf:")
    assert (summary.title, summary.summary, summary.method) == (
        "Storage report Q3",
        "Storage grew 12%. Backups never failed.",
        "llm",
    )
    assert "twelve percent" in sent["messages"][1]["content"]


async def test_builtin_summary_without_llm():
    summary = await ActivityEnvironment().run(
        DocumentActivities().summarize, ExtractedDocument(name="r.txt", text=REPORT_TEXT)
    )
    assert summary.title == "Quarterly storage report" and summary.method == "extractive"
    assert "twelve percent" in summary.summary


async def test_link_in_chat_is_summarized_in_the_thread(stack):
    async with local_server(serve_files({"/report.pdf": (make_pdf(REPORT_LINES), PDF)})) as server:
        sent = await stack.say(f"summarize {server.base_url}/report.pdf")
        bot = await stack.wait_bot_messages(sent["thread"], 3)
        texts = [m["text"] for m in bot]
        assert any(t.startswith("Summary of report.pdf: Quarterly storage report") for t in texts), texts


async def test_started_reply_precedes_the_result_in_20_of_20_runs(stack):
    """The session says "I've started document processing" before the child can post anything.

    A missing file fails at once (HTTP 404 is not retried), which is when the child's status
    message used to overtake the session's reply. Twenty conversations at once, each checked.
    """

    async def one_run(server_url: str, n: int) -> list[str]:
        sent = await stack.say(f"summarize {server_url}/r{n}.txt")

        async def texts() -> list[str]:
            return [m["text"] for m in await stack.bot_messages(sent["thread"])]

        done = lambda t: len(t) >= 3 and any(x.startswith(f"Processed r{n}.txt") for x in t)  # noqa: E731
        return await eventually(texts, done, timeout=90, what=f"run {n} to finish")

    async with local_server(serve_files({})) as server:
        runs = await asyncio.gather(*(one_run(server.base_url, n) for n in range(1, 21)))
    in_order = 0
    for n, texts in enumerate(runs, 1):
        assert not any("/document/" in t for t in texts), texts  # no workflow ids in chat
        assert texts[1:] == [
            f"Processed r{n}.txt: 0 summarized, 1 failed.",
            f"I couldn't process r{n}.txt: 127.0.0.1 answered HTTP 404 Not Found.",
        ], texts
        in_order += texts[0].startswith("I've started document processing for \"summarize")
    assert in_order == 20
