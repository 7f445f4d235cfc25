"""POST /events/sharepoint with a local server standing in for Microsoft Graph."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from aiohttp import web

from tests.support.documents import REPORT_LINES, make_pdf
from tests.support.events import TOKEN, channel_texts
from tests.support.httpserver import local_server
from tests.support.stack import running_stack
from workflows.documents import DocumentProcessingWorkflow

GRAPH_TOKEN = "graph-test-token"
SITE_ID = "contoso.sharepoint.com,site-guid,web-guid"
LIST_ID = "5c77031a-9621-4dfc-bb5d-57ca2d5fe31d"
PDF = make_pdf(REPORT_LINES)


def fake_graph(app: web.Application, _recorded: list) -> None:
    now = datetime.now(UTC)

    def authorized(request: web.Request) -> bool:
        return request.headers.get("Authorization") == f"Bearer {GRAPH_TOKEN}"

    async def root(request: web.Request) -> web.Response:
        if not authorized(request):
            return web.json_response({"error": {"code": "InvalidAuthenticationToken"}}, status=401)
        return web.json_response({"id": "root", "siteCollection": {"hostname": "contoso.sharepoint.com"}})

    async def site(request: web.Request) -> web.Response:
        assert request.match_info["path"] == "contoso.sharepoint.com:/sites/finance", request.match_info["path"]
        return web.json_response({"id": SITE_ID})

    async def items(request: web.Request) -> web.Response:
        if not authorized(request) or request.match_info["list"] != LIST_ID:
            return web.json_response({"error": {"code": "itemNotFound"}}, status=404)
        drive = {"driveId": "b!drive"}
        return web.json_response(
            {
                "value": [
                    {
                        "id": "7",
                        "eTag": '"{AAA},3"',
                        "lastModifiedDateTime": (now - timedelta(minutes=1)).isoformat().replace("+00:00", "Z"),
                        "driveItem": {
                            "id": "01ITEM",
                            "name": "budget.pdf",
                            "size": len(PDF),
                            "file": {"mimeType": "application/pdf"},
                            "parentReference": drive,
                        },
                    },
                    {
                        "id": "8",
                        "eTag": '"{BBB},1"',
                        "lastModifiedDateTime": (now - timedelta(minutes=2)).isoformat().replace("+00:00", "Z"),
                        "driveItem": {
                            "id": "01FOLDER",
                            "name": "Archive",
                            "folder": {"childCount": 3},
                            "parentReference": drive,
                        },
                    },
                    {
                        "id": "9",
                        "eTag": '"{CCC},9"',
                        "lastModifiedDateTime": (now - timedelta(days=30)).isoformat().replace("+00:00", "Z"),
                        "driveItem": {
                            "id": "01OLD",
                            "name": "old.pdf",
                            "size": 10,
                            "file": {"mimeType": "application/pdf"},
                            "parentReference": drive,
                        },
                    },
                ]
            }
        )

    async def content(request: web.Request) -> web.Response:
        if not authorized(request) or request.match_info["item"] != "01ITEM":
            return web.Response(status=404)
        return web.Response(body=PDF, content_type="application/pdf")

    app.router.add_get("/v1.0/sites/root", root)
    app.router.add_get(f"/v1.0/sites/{SITE_ID}/lists/{{list}}/items", items)
    app.router.add_get("/v1.0/sites/{path:.+}", site)
    app.router.add_get("/v1.0/drives/{drive}/items/{item}/content", content)


def notification(client_state: str | None = TOKEN) -> dict:
    return {
        "value": [
            {
                "subscriptionId": "sub-1",
                "clientState": client_state,
                "expirationDateTime": "2027-01-01T00:00:00Z",
                "resource": LIST_ID,
                "tenantId": "tenant",
                "siteUrl": "/sites/finance",
                "webId": "web-guid",
            }
        ]
    }


async def test_sharepoint_handshake_and_notification_processed(client, tmp_path):
    async with (
        local_server(fake_graph) as graph,
        running_stack(
            client, tmp_path, events_token=TOKEN, graph_base_url=f"{graph.base_url}/v1.0", graph_token=GRAPH_TOKEN
        ) as stack,
    ):
        handshake = await stack.http.post("/events/sharepoint?validationtoken=abc%3D123")
        assert handshake.status_code == 200 and handshake.text == "abc=123"
        assert handshake.headers["Content-Type"].startswith("text/plain")

        wrong = await stack.http.post("/events/sharepoint", json=notification("not-the-token"))
        assert wrong.status_code == 401
        missing = await stack.http.post("/events/sharepoint", json=notification(None))
        assert missing.status_code == 401
        malformed = await stack.http.post("/events/sharepoint", json={"value": [{"clientState": TOKEN}]})
        assert malformed.status_code == 400 and "resource" in malformed.json()["error"]

        first = await stack.http.post("/events/sharepoint", json=notification())
        again = await stack.http.post("/events/sharepoint", json=notification())  # SharePoint repeats itself
        wid = 'doc:sharepoint:b!drive/01ITEM@"{AAA},3"'
        assert first.status_code == 202 and first.json()["accepted"] == [wid]  # not the folder, not the old file
        assert again.status_code == 202
        result = await client.get_workflow_handle_for(DocumentProcessingWorkflow.run, wid).result()
        assert result.status == "completed"
        summaries = [t for t in await channel_texts(stack) if t.startswith("Summary of budget.pdf")]
        assert len(summaries) == 1 and "Quarterly storage report" in summaries[0]
        assert all(r["headers"].get("Authorization") == f"Bearer {GRAPH_TOKEN}" for r in graph.requests)


async def test_graph_failure_asks_sharepoint_to_retry(client, tmp_path):
    async with (
        local_server(lambda app, _r: None) as graph,
        running_stack(
            client, tmp_path, events_token=TOKEN, graph_base_url=f"{graph.base_url}/v1.0", graph_token=GRAPH_TOKEN
        ) as stack,
    ):
        resp = await stack.http.post("/events/sharepoint", json=notification())
    assert resp.status_code == 503 and "Microsoft Graph" in resp.json()["error"]


async def test_graph_client_credentials_are_exchanged_once_for_a_token(tmp_path):
    from workflows.activities.fetchers import SourceSettings
    from workflows.activities.fetchers.graph import GraphClient

    def graph_with_login(app: web.Application, recorded: list) -> None:
        fake_graph(app, recorded)

        async def token(request: web.Request) -> web.Response:
            form = await request.post()
            assert request.match_info["tenant"] == "tenant-1"
            assert (form["grant_type"], form["client_id"], form["client_secret"]) == (
                "client_credentials",
                "app-1",
                "s3cret",
            )
            assert form["scope"] == "https://graph.microsoft.com/.default"
            return web.json_response({"access_token": GRAPH_TOKEN, "expires_in": 3599, "token_type": "Bearer"})

        app.router.add_post("/login/{tenant}/oauth2/v2.0/token", token)

    async with local_server(graph_with_login) as graph:
        client = GraphClient.from_settings(
            SourceSettings(
                graph_base_url=f"{graph.base_url}/v1.0",
                graph_tenant_id="tenant-1",
                graph_client_id="app-1",
                graph_client_secret="s3cret",
                graph_login_url=f"{graph.base_url}/login",
            )
        )
        changed = await client.changed_files("/sites/finance", LIST_ID, timedelta(hours=1))
        fetched = await client.download(changed[0].file, 1_000_000)
        logins = [r for r in graph.requests if r["path"].startswith("/login/")]
    assert [c.file.name for c in changed] == ["budget.pdf"] and fetched.data == PDF
    assert len(logins) == 1  # cached for the next calls
