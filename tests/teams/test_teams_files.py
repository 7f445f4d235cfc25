"""A file shared with the bot in Teams is processed as a document and summarized in the chat."""

from __future__ import annotations

from tests.support.httpserver import local_server, serve_files
from tests.teams.activities import activity
from tests.teams.conftest import send

REPORT = (
    "Checkout outage report\n"
    "The checkout service failed after a configuration deploy at noon. "
    "Rolling back the configuration restored the checkout service within minutes. "
    "Alerts fired two minutes after the first errors."
)


async def test_shared_file_is_summarized_in_the_conversation(teams, connector):
    async with local_server(serve_files({"/files/report.txt": (REPORT.encode(), "text/plain")})) as files:
        conv = "a:file-chat"
        body = activity(
            connector.url,
            conv,
            text="",
            attachments=[
                # Teams sends the HTML copy of the message too; it is not a document.
                {"contentType": "text/html", "content": "<p></p>"},
                {
                    "contentType": "application/vnd.microsoft.teams.file.download.info",
                    "name": "report.txt",
                    "content": {
                        "downloadUrl": f"{files.base_url}/files/report.txt",
                        "uniqueId": "u-1",
                        "fileType": "txt",
                    },
                },
            ],
        )
        assert (await send(teams, body)).status_code == 201
        summary = await connector.wait_for(
            lambda: [p for p in connector.posts(conv) if "Checkout outage report" in p.searchable()], 1, timeout=30
        )
        assert (
            "Rolling back the configuration" in summary[0].searchable() or "checkout service" in summary[0].searchable()
        )
        assert [r["path"] for r in files.requests] == ["/files/report.txt"]
        state = await teams.state(f"teams:tenant-1:{conv}")
        [started] = state["triggered_workflows"]
        assert started["workflow_type"] == "DocumentProcessingWorkflow"
