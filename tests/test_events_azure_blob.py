"""POST /events/azure-blob against Azurite: Event Grid and CloudEvents handshakes, BlobCreated processed."""

from __future__ import annotations

from azure.storage.blob import BlobServiceClient, ContentSettings

from tests.support.documents import make_docx
from tests.support.events import AUTH, TOKEN, channel_texts
from tests.support.services import azurite  # noqa: F401  (fixture)
from tests.support.stack import running_stack
from workflows.documents import DocumentProcessingWorkflow
from workflows.notice import EventNoticeWorkflow

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def grid_event(event_type: str, url: str, sequencer: str, event_id: str) -> dict:
    return {
        "id": event_id,
        "topic": "/subscriptions/s/resourceGroups/g/providers/Microsoft.Storage/storageAccounts/devstoreaccount1",
        "subject": "/blobServices/default/containers/contracts/blobs/plan.docx",
        "eventType": event_type,
        "eventTime": "2026-11-26T01:00:00Z",
        "dataVersion": "",
        "metadataVersion": "1",
        "data": {"api": "PutBlob", "contentType": DOCX, "blobType": "BlockBlob", "url": url, "sequencer": sequencer},
    }


async def test_event_grid_handshake_and_blob_created_document(client, tmp_path, azurite):
    service = BlobServiceClient.from_connection_string(azurite)
    container = service.create_container("contracts")
    blob = container.upload_blob(
        "plan.docx",
        make_docx("Migration plan", ["We move the billing database to the new cluster in March after testing."]),
        content_settings=ContentSettings(content_type=DOCX),
    )
    async with running_stack(client, tmp_path, events_token=TOKEN, azure_storage_connection_string=azurite) as stack:
        validation = [
            {
                "id": "v1",
                "topic": "t",
                "subject": "",
                "eventType": "Microsoft.EventGrid.SubscriptionValidationEvent",
                "eventTime": "2026-11-26T01:00:00Z",
                "dataVersion": "1",
                "data": {
                    "validationCode": "512d38b6-c7b8-40c8-89fe-f46f9e9622b6",
                    "validationUrl": "https://example.invalid/v",
                },
            }
        ]
        resp = await stack.http.post(f"/events/azure-blob?token={TOKEN}", json=validation)
        assert resp.status_code == 200 and resp.json() == {"validationResponse": "512d38b6-c7b8-40c8-89fe-f46f9e9622b6"}

        created = [grid_event("Microsoft.Storage.BlobCreated", blob.url, "000000000000000000000000000001", "e-1")]
        assert (await stack.http.post("/events/azure-blob", json=created, headers=AUTH)).status_code == 202
        assert (await stack.http.post("/events/azure-blob", json=created, headers=AUTH)).status_code == 202
        wid = f"doc:azure:{blob.url}#000000000000000000000000000001"
        result = await client.get_workflow_handle_for(DocumentProcessingWorkflow.run, wid).result()
        assert result.status == "completed", result
        summaries = [t for t in await channel_texts(stack) if t.startswith("Summary of plan.docx")]
        assert len(summaries) == 1 and "Migration plan" in summaries[0] and "billing database" in summaries[0]


async def test_cloudevents_handshake_and_deleted_blob_notice(client, tmp_path, azurite):
    url = azurite.split("BlobEndpoint=")[1].rstrip(";") + "/contracts/old.txt"
    async with running_stack(client, tmp_path, events_token=TOKEN, azure_storage_connection_string=azurite) as stack:
        options = await stack.http.request(
            "OPTIONS", "/events/azure-blob", headers={**AUTH, "WebHook-Request-Origin": "eventgrid.azure.net"}
        )
        assert options.status_code == 200 and options.headers["WebHook-Allowed-Origin"] == "eventgrid.azure.net"
        unauthenticated = await stack.http.request(
            "OPTIONS", "/events/azure-blob", headers={"WebHook-Request-Origin": "eventgrid.azure.net"}
        )
        assert unauthenticated.status_code == 401
        cloud_event = {
            "specversion": "1.0",
            "type": "Microsoft.Storage.BlobDeleted",
            "id": "ce-1",
            "source": "/subscriptions/s/storageAccounts/devstoreaccount1",
            "subject": "/blobServices/default/containers/contracts/blobs/old.txt",
            "time": "2026-11-26T01:00:00Z",
            "data": {"api": "DeleteBlob", "url": url, "sequencer": "02"},
        }
        resp = await stack.http.post(
            "/events/azure-blob", json=cloud_event, headers={**AUTH, "Content-Type": "application/cloudevents+json"}
        )
        assert resp.status_code == 202, resp.text
        await client.get_workflow_handle_for(EventNoticeWorkflow.run, f"notice:azure:{url}#02").result()
        assert f"Azure blob deleted: {url}" in await channel_texts(stack)
        neither = await stack.http.post("/events/azure-blob", json=[{"hello": "world"}], headers=AUTH)
        assert neither.status_code == 400 and "neither an Event Grid event" in neither.json()["error"]


async def test_blob_of_another_account_is_refused_not_fetched(client, tmp_path, azurite):
    foreign = "https://elsewhere.blob.core.windows.net/c/secret.txt"
    async with running_stack(client, tmp_path, events_token=TOKEN, azure_storage_connection_string=azurite) as stack:
        created = [grid_event("Microsoft.Storage.BlobCreated", foreign, "03", "e-3")]
        assert (await stack.http.post("/events/azure-blob", json=created, headers=AUTH)).status_code == 202
        result = await client.get_workflow_handle_for(
            DocumentProcessingWorkflow.run, f"doc:azure:{foreign}#03"
        ).result()
        assert result.status == "failed"
        assert any(
            "is not in the storage account of AZURE_STORAGE_CONNECTION_STRING" in t for t in await channel_texts(stack)
        )


def test_data_lake_dfs_urls_are_read_through_the_blob_endpoint():
    from adapters.events.azure_blob import blob_endpoint_url

    assert (
        blob_endpoint_url("https://acct.dfs.core.windows.net/fs/dir/a.txt")
        == "https://acct.blob.core.windows.net/fs/dir/a.txt"
    )
    assert (
        blob_endpoint_url("http://127.0.0.1:10000/devstoreaccount1/c/a.txt")
        == "http://127.0.0.1:10000/devstoreaccount1/c/a.txt"
    )
