"""A file shared with the bot in Teams is processed as a document and summarized in the chat."""

from __future__ import annotations

from aiohttp import web

from tests.support.stack import free_port
from tests.teams.activities import activity
from tests.teams.conftest import send

REPORT = (
    "Checkout outage report\n"
    "The checkout service failed after a configuration deploy at noon. "
    "Rolling back the configuration restored the checkout service within minutes. "
    "Alerts fired two minutes after the first errors."
)


async def test_shared_file_is_summarized_in_the_conversation(teams, connector):
    downloads: list[str] = []

    async def download(request: web.Request) -> web.Response:
        downloads.append(request.path)
        return web.Response(text=REPORT, content_type="text/plain")

    app = web.Application()
    app.router.add_get("/files/report.txt", download)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
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
                    "content": {"downloadUrl": f"http://127.0.0.1:{port}/files/report.txt", "uniqueId": "u-1", "fileType": "txt"},
                },
            ],
        )
        assert (await send(teams, body)).status_code == 201
        summary = await connector.wait_for(
            lambda: [p for p in connector.posts(conv) if "Checkout outage report" in p.searchable()], 1, timeout=30
        )
        assert "Rolling back the configuration" in summary[0].searchable() or "checkout service" in summary[0].searchable()
        assert downloads == ["/files/report.txt"]
        state = await teams.state(f"teams:tenant-1:{conv}")
        [started] = state["triggered_workflows"]
        assert started["workflow_type"] == "DocumentProcessingWorkflow"
    finally:
        await runner.cleanup()
