"""Senders' published payloads (tests/payloads/, sources in its README) through their real routes.

One stack serves the whole corpus: moto's S3 server, Azurite and a local Microsoft Graph
stand in for the stores, so every accepted event is followed to its effect (an incident,
a document summary or failure post, a notice) and every deliberate ignore to its reason
in the 202 and its INFO log line. Payload files stay verbatim; what must point at the
local stores (the blob account URL, SharePoint's clientState) is substituted here.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import unquote_plus

import boto3
import pytest
import pytest_asyncio
from aiohttp import web
from azure.storage.blob import BlobServiceClient, ContentSettings

from tests.support.documents import REPORT_LINES, make_pdf
from tests.support.events import AUTH, TOKEN, channel_texts, wait_until
from tests.support.httpserver import local_server
from tests.support.services import azurite, moto_s3  # noqa: F401  (fixtures)
from tests.support.stack import Stack, running_stack
from workflows.documents import DocumentProcessingWorkflow
from workflows.incident import IncidentWorkflow
from workflows.notice import EventNoticeWorkflow

PAYLOADS = Path(__file__).parent / "payloads"
FILES = sorted(str(p.relative_to(PAYLOADS)) for p in PAYLOADS.glob("*/*.json"))
ROUTES = {
    "grafana": "/events/alertmanager",
    "alertmanager": "/events/alertmanager",
    "aws-s3": "/events/s3",
    "aws-sns": "/events/s3",
    "minio": "/events/s3",
    "azure-event-grid": "/events/azure-blob",
    "azure-cloudevents": "/events/azure-blob",
    "sharepoint": "/events/sharepoint",
}
#: The account URL in Microsoft's examples, replaced by Azurite's blob endpoint.
AZURE_EXAMPLE_ACCOUNT = "https://my-storage-account.blob.core.windows.net"
GRAPH_TOKEN = "graph-token-for-payload-tests"
PDF = make_pdf(REPORT_LINES)
TEXT = b"The billing database moves to the new cluster in March. Testing starts in February with a copy of production."


@dataclass(frozen=True)
class Expect:
    """What one payload must do: the workflows it starts (by kind, in order) or what it answers."""

    started: tuple[str, ...] = ()
    ignored: int = 0
    #: Incident titles, in the order of the incidents started.
    titles: tuple[str, ...] = ()
    #: Document results: "completed" (summarised) or "failed" (a type we can't read; the post says so),
    #: and the file name the post must show.
    documents: str = ""
    document_name: str = ""
    validation_code: str = ""
    sns_handshake: bool = False


EXPECT: dict[str, Expect] = {
    "grafana/contact-point.json": Expect(
        ("incident", "incident"),
        titles=(
            "High memory usage: This alert was triggered for zone us-1",
            "High CPU usage: This alert was triggered for zone eu-1",
        ),
    ),
    "grafana/contact-point-grafana9.json": Expect(
        ("incident",), titles=("Test alert: This is a summary field, failure on some_host",)
    ),
    "grafana/contact-point-test-button.json": Expect(("notice",)),
    "grafana/legacy-alerting.json": Expect(("incident",), titles=("Panel Title alert: Notification Message",)),
    "grafana/legacy-ok.json": Expect(ignored=1),
    "grafana/legacy-pending.json": Expect(ignored=1),
    "alertmanager/group-status-only.json": Expect(
        ("incident",), titles=("high_memory_load: Server High Memory usage",)
    ),
    "alertmanager/two-alerts.json": Expect(
        ("incident", "incident"), titles=("High CPU Temperature: High CPU core temperature",) * 2
    ),
    "alertmanager/oncall-example.json": Expect(
        ("incident",), titles=("TestAlert: This alert was sent by user for the\u2026",)
    ),  # short title: cut at a word
    "aws-s3/object-created-put.json": Expect(("doc",), documents="failed", document_name="HappyFace.jpg"),
    "aws-s3/test-event.json": Expect(ignored=1),
    "aws-sns/subscription-confirmation.json": Expect(sns_handshake=True),
    "aws-sns/unsubscribe-confirmation.json": Expect(sns_handshake=True),
    "aws-sns/notification-not-s3.json": Expect(ignored=1),
    "aws-sns/notification-s3-put.json": Expect(("doc",), documents="failed", document_name="HappyFace.jpg"),
    "minio/kafka-object-created-put.json": Expect(("doc",), documents="failed", document_name="myphoto.jpg"),
    "minio/amqp-object-created-put.json": Expect(("doc",), documents="failed", document_name="myphoto.jpg"),
    "minio/elasticsearch-object-created-put.json": Expect(("doc",), documents="failed", document_name="myphoto.jpg"),
    "azure-event-grid/subscription-validation.json": Expect(validation_code="512d38b6-c7b8-40c8-89fe-f46f9e9622b6"),
    "azure-event-grid/blob-created.json": Expect(("doc",), documents="completed", document_name="new-file.txt"),
    "azure-event-grid/blob-deleted.json": Expect(("notice",)),
    "azure-event-grid/blob-tier-changed.json": Expect(ignored=1),
    "azure-cloudevents/blob-created.json": Expect(("doc",), documents="completed", document_name="new-file.txt"),
    "azure-cloudevents/blob-deleted.json": Expect(("notice",)),
    "azure-cloudevents/data-lake-create-file.json": Expect(ignored=1),
    "azure-cloudevents/async-operation-initiated.json": Expect(ignored=1),
    "sharepoint/notification.json": Expect(("doc",), documents="completed", document_name="report.pdf"),
    "sharepoint/azure-functions-test.json": Expect(("doc",), documents="completed", document_name="report.pdf"),
    "sharepoint/get-started-notification.json": Expect(("doc",), documents="completed", document_name="report.pdf"),
}


def fake_graph(app: web.Application, _recorded: list) -> None:
    """Microsoft Graph for any site and list: each list has one PDF changed a minute ago."""

    async def root(_request: web.Request) -> web.Response:
        return web.json_response({"id": "root", "siteCollection": {"hostname": "contoso.sharepoint.com"}})

    async def items(request: web.Request) -> web.Response:
        if request.headers.get("Authorization") != f"Bearer {GRAPH_TOKEN}":
            return web.json_response({"error": {"code": "InvalidAuthenticationToken"}}, status=401)
        list_id = request.match_info["list"]
        modified = (datetime.now(UTC) - timedelta(minutes=1)).isoformat().replace("+00:00", "Z")
        return web.json_response(
            {
                "value": [
                    {
                        "id": "1",
                        "eTag": f'"{{{list_id}}},1"',
                        "lastModifiedDateTime": modified,
                        "driveItem": {
                            "id": f"item-{list_id}",
                            "name": "report.pdf",
                            "size": len(PDF),
                            "file": {"mimeType": "application/pdf"},
                            "parentReference": {"driveId": "b!drive"},
                        },
                    }
                ]
            }
        )

    async def site(request: web.Request) -> web.Response:
        assert request.match_info["path"].startswith("contoso.sharepoint.com:/"), request.match_info["path"]
        return web.json_response({"id": "contoso.sharepoint.com,site-guid,web-guid"})

    async def content(_request: web.Request) -> web.Response:
        return web.Response(body=PDF, content_type="application/pdf")

    app.router.add_get("/v1.0/sites/root", root)
    app.router.add_get("/v1.0/sites/{site}/lists/{list}/items", items)
    app.router.add_get("/v1.0/sites/{path:.+}", site)
    app.router.add_get("/v1.0/drives/{drive}/items/{item}/content", content)


@pytest_asyncio.fixture(scope="module")
async def corpus_stack(temporal_env, tmp_path_factory, moto_s3: str, azurite: str) -> AsyncIterator[Stack]:
    with pytest.MonkeyPatch.context() as env:
        for name, value in {
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": "us-east-1",
        }.items():
            env.setenv(name, value)
        env.delenv("AWS_PROFILE", raising=False)
        async with (
            local_server(fake_graph) as graph,
            running_stack(
                temporal_env.client,
                tmp_path_factory.mktemp("corpus"),
                events_token=TOKEN,
                aws_endpoint_url=moto_s3,
                azure_storage_connection_string=azurite,
                graph_base_url=f"{graph.base_url}/v1.0",
                graph_token=GRAPH_TOKEN,
            ) as stack,
        ):
            yield stack


def blob_endpoint(connection_string: str) -> str:
    return connection_string.split("BlobEndpoint=")[1].rstrip(";")


def localize(sender: str, text: str, stack: Stack) -> str:
    """Point a published payload at the local stores (the only change made to it)."""
    if sender.startswith("azure"):
        return text.replace(AZURE_EXAMPLE_ACCOUNT, blob_endpoint(stack.settings.azure_storage_connection_string or ""))
    if sender == "sharepoint":
        body = json.loads(text)
        for note in body.get("value", []):
            note["clientState"] = TOKEN  # the subscription's clientState is our events token
        return json.dumps(body)
    return text


def s3_records(body: dict[str, Any]) -> list[dict[str, Any]]:
    if body.get("Type") == "Notification":
        try:
            body = json.loads(body["Message"])
        except json.JSONDecodeError:
            return []
    return body.get("Records", [])


def store_objects(sender: str, body: Any, stack: Stack) -> None:
    """Put the objects a payload announces where the fetchers will look for them."""
    if sender in ("aws-s3", "aws-sns", "minio"):
        s3 = boto3.client("s3", endpoint_url=stack.settings.aws_endpoint_url)
        for record in s3_records(body):
            if "ObjectCreated" not in record["eventName"]:
                continue
            bucket, key = record["s3"]["bucket"]["name"], unquote_plus(record["s3"]["object"]["key"])
            s3.create_bucket(Bucket=bucket)
            s3.put_object(
                Bucket=bucket, Key=key, Body=TEXT if key.endswith(".txt") else b"\xff\xd8\xff\xe0 not really a JPEG"
            )
    if sender.startswith("azure"):
        service = BlobServiceClient.from_connection_string(stack.settings.azure_storage_connection_string or "")
        events = body if isinstance(body, list) else [body]
        for event in events:
            url = (event.get("data") or {}).get("url", "")
            if (event.get("type") or event.get("eventType")) != "Microsoft.Storage.BlobCreated" or not url.startswith(
                blob_endpoint(stack.settings.azure_storage_connection_string or "")
            ):
                continue
            container, name = url.split("/")[-2:]
            client = service.get_container_client(container)
            if not client.exists():
                client.create_container()
            client.upload_blob(name, TEXT, overwrite=True, content_settings=ContentSettings(content_type="text/plain"))


async def effect_of(stack: Stack, wid: str, expect: Expect) -> str:
    """Follow one started workflow to what the user sees; returns the kind."""
    kind = wid.split(":", 1)[0]
    if kind == "incident":
        state = await wait_until(lambda: _incident_state(stack, wid), f"incident {wid}")
        assert state.origin.channel == "documents" and state.status != "resolved", state
        return kind
    if kind == "doc":
        result = await stack.client.get_workflow_handle_for(DocumentProcessingWorkflow.run, wid).result()
        assert result.status == expect.documents, result
        await wait_until(lambda: _posts_naming(stack, expect.document_name), f"a post about {expect.document_name}")
        return kind
    if kind == "notice":
        text = await stack.client.get_workflow_handle_for(EventNoticeWorkflow.run, wid).result()
        assert text in await channel_texts(stack)
        return kind
    raise AssertionError(f"unexpected workflow id {wid}")


async def _incident_state(stack: Stack, wid: str) -> Any:
    try:
        return await stack.client.get_workflow_handle_for(IncidentWorkflow.run, wid).query(
            IncidentWorkflow.get_incident_state
        )
    except Exception:  # not queryable until its first task ran
        return None


async def _posts_naming(stack: Stack, name: str) -> list[str]:
    return [t for t in await channel_texts(stack) if name in t]


def test_every_payload_has_an_expectation_and_a_named_source():
    readme = (PAYLOADS / "README.md").read_text()
    assert sorted(EXPECT) == FILES
    assert [f for f in FILES if f"`{f}`" not in readme] == []
    per_route: dict[str, int] = {}
    for f in FILES:
        per_route[ROUTES[f.split("/")[0]]] = per_route.get(ROUTES[f.split("/")[0]], 0) + 1
    assert all(n >= 3 for n in per_route.values()) and len(per_route) == 4, per_route


@pytest.mark.parametrize("payload", FILES)
async def test_published_payload_reaches_its_effect(
    payload: str, corpus_stack: Stack, caplog: pytest.LogCaptureFixture
):
    stack, expect = corpus_stack, EXPECT[payload]
    sender = payload.split("/")[0]
    text = localize(sender, (PAYLOADS / payload).read_text(), stack)
    store_objects(sender, json.loads(text), stack)
    caplog.set_level(logging.INFO, logger="adapters.events")

    resp = await stack.http.post(
        ROUTES[sender], content=text.encode(), headers={**AUTH, "Content-Type": "application/json"}
    )

    if expect.validation_code:
        assert resp.status_code == 200 and resp.json() == {"validationResponse": expect.validation_code}
        return
    assert resp.status_code == 202, resp.text
    body = resp.json()
    if expect.sns_handshake:
        assert body["subscribe_url"] == json.loads(text)["SubscribeURL"] and body["accepted"] == []
        return
    started = body["accepted"] + body["duplicates"]
    assert [await effect_of(stack, wid, expect) for wid in started] == list(expect.started), body
    assert len(body["ignored"]) == expect.ignored, body
    assert all(body["reasons"].get(item) for item in body["ignored"]), body
    ignore_lines = [
        r for r in caplog.records if r.levelno == logging.INFO and r.getMessage().startswith("event ignored: ")
    ]
    assert len(ignore_lines) == expect.ignored, [r.getMessage() for r in ignore_lines]
    if expect.titles:
        titles = [(await _incident_state(stack, wid)).title for wid in started]
        assert titles == list(expect.titles)
