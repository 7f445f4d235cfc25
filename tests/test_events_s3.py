"""POST /events/s3 against moto's real S3 server: documents, dedupe, removals, SNS, auth, limits."""

from __future__ import annotations

import json

import boto3

from tests.support.documents import REPORT_LINES, make_pdf
from tests.support.events import AUTH, TOKEN, channel_texts, s3_record, wait_until
from tests.support.services import aws_env, moto_s3  # noqa: F401  (fixtures)
from tests.support.stack import running_stack
from workflows.documents import DocumentProcessingWorkflow
from workflows.notice import EventNoticeWorkflow


async def test_s3_put_and_event_delivered_twice_gives_one_summary(client, tmp_path, aws_env):
    s3 = boto3.client("s3", endpoint_url=aws_env)
    s3.create_bucket(Bucket="reports")
    body = make_pdf(REPORT_LINES)
    s3.put_object(Bucket="reports", Key="q3/storage report.pdf", Body=body, ContentType="application/pdf")
    event = {
        "Records": [s3_record("ObjectCreated:Put", "reports", "q3/storage+report.pdf", "0055AED6DCD90281E5", len(body))]
    }
    async with running_stack(client, tmp_path, events_token=TOKEN, aws_endpoint_url=aws_env) as stack:
        first = await stack.http.post("/events/s3", json=event, headers=AUTH)
        again = await stack.http.post("/events/s3", json=event, headers=AUTH)
        wid = "doc:s3:reports/q3/storage report.pdf#0055AED6DCD90281E5"
        assert first.status_code == 202 and first.json()["accepted"] == [wid]
        assert again.status_code == 202
        result = await client.get_workflow_handle_for(DocumentProcessingWorkflow.run, wid).result()
        assert result.status == "completed" and result.summaries[0].title == "Quarterly storage report"

        late = await stack.http.post("/events/s3", json=event, headers=AUTH)  # after the workflow closed
        assert late.json()["duplicates"] == [wid]
        texts = await channel_texts(stack)
        summaries = [t for t in texts if t.startswith("Summary of storage report.pdf")]
        assert len(summaries) == 1, texts
        assert "twelve percent" in summaries[0]


async def test_object_removed_inside_sns_envelope_posts_one_notice(client, tmp_path, aws_env):
    record = s3_record("ObjectRemoved:Delete", "reports", "old/notes.txt", "0066")
    envelope = {
        "Type": "Notification",
        "MessageId": "m-1",
        "TopicArn": "arn:aws:sns:us-east-1:1:bucket-events",
        "Message": json.dumps({"Records": [record]}),
    }
    async with running_stack(client, tmp_path, events_token=TOKEN, aws_endpoint_url=aws_env) as stack:
        for _ in range(2):
            resp = await stack.http.post(
                "/events/s3", content=json.dumps(envelope), headers={**AUTH, "Content-Type": "text/plain"}
            )
            assert resp.status_code == 202, resp.text
        wid = "notice:s3:reports/old/notes.txt#0066"
        await client.get_workflow_handle_for(EventNoticeWorkflow.run, wid).result()
        notices = [t for t in await channel_texts(stack) if "removed" in t]
        assert notices == ["S3 object removed: s3://reports/old/notes.txt"]


async def test_minio_prefixed_event_names_are_processed_and_other_events_ignored_with_a_reason(
    client, tmp_path, aws_env, caplog
):
    s3 = boto3.client("s3", endpoint_url=aws_env)
    s3.create_bucket(Bucket="minio-reports")
    body = make_pdf(REPORT_LINES)
    s3.put_object(Bucket="minio-reports", Key="q4/report.pdf", Body=body, ContentType="application/pdf")
    put = {
        **s3_record("s3:ObjectCreated:Put", "minio-reports", "q4%2Freport.pdf", "1800A1", len(body)),
        "eventSource": "minio:s3",
    }
    delete = {
        **s3_record("s3:ObjectRemoved:Delete", "minio-reports", "q3%2Fold.pdf", "1800A2"),
        "eventSource": "minio:s3",
    }
    accessed = {
        **s3_record("s3:ObjectAccessed:Get", "minio-reports", "q4%2Freport.pdf", "1800A3"),
        "eventSource": "minio:s3",
    }
    caplog.set_level("INFO", logger="adapters.events")
    async with running_stack(client, tmp_path, events_token=TOKEN, aws_endpoint_url=aws_env) as stack:
        resp = await stack.http.post(
            "/events/s3",
            json={
                "EventName": "s3:ObjectCreated:Put",
                "Key": "minio-reports/q4/report.pdf",
                "Records": [put, delete, accessed],
            },
            headers=AUTH,
        )
        assert resp.status_code == 202, resp.text
        doc, notice = "doc:s3:minio-reports/q4/report.pdf#1800A1", "notice:s3:minio-reports/q3/old.pdf#1800A2"
        ignored = "s3:ObjectAccessed:Get minio-reports/q4/report.pdf#1800A3"
        assert resp.json()["accepted"] == [doc, notice] and resp.json()["ignored"] == [ignored]
        assert (
            resp.json()["reasons"][ignored]
            == "s3:ObjectAccessed:Get is not acted on (only ObjectCreated:* and ObjectRemoved:* are)"
        )
        result = await client.get_workflow_handle_for(DocumentProcessingWorkflow.run, doc).result()
        assert result.status == "completed" and result.summaries[0].title == "Quarterly storage report"
        await client.get_workflow_handle_for(EventNoticeWorkflow.run, notice).result()
        assert "S3 object removed: s3://minio-reports/q3/old.pdf" in await channel_texts(stack)
    lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("event ignored: ")]
    assert lines == [
        f"event ignored: {ignored}: s3:ObjectAccessed:Get is not acted on (only ObjectCreated:* and ObjectRemoved:* are)"
    ]


async def test_sns_subscription_confirmation_is_answered_without_network(client, tmp_path):
    confirm = {
        "Type": "SubscriptionConfirmation",
        "TopicArn": "arn:aws:sns:us-east-1:1:t",
        "Token": "tok",
        "SubscribeURL": "https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription&Token=tok",
    }
    async with running_stack(client, tmp_path, events_token=TOKEN) as stack:
        resp = await stack.http.post("/events/s3", json=confirm, headers=AUTH)
    assert resp.status_code == 202
    assert resp.json()["subscribe_url"] == confirm["SubscribeURL"]
    assert resp.json()["accepted"] == []


async def test_token_required_and_malformed_events_get_a_reason(client, tmp_path):
    event = {"Records": [s3_record("ObjectCreated:Put", "b", "k.txt", "01")]}
    async with running_stack(client, tmp_path, events_token=TOKEN) as stack:
        missing = await stack.http.post("/events/s3", json=event)
        wrong = await stack.http.post("/events/s3", json=event, headers={"Authorization": "Bearer nope"})
        wrong_query = await stack.http.post("/events/alertmanager?token=nope", json={})
        not_json = await stack.http.post(f"/events/s3?token={TOKEN}", content=b"{not json")
        no_records = await stack.http.post("/events/s3", json={"Records": []}, headers=AUTH)
        no_key = await stack.http.post(
            "/events/s3",
            json={"Records": [{"eventName": "ObjectCreated:Put", "s3": {"bucket": {"name": "b"}, "object": {}}}]},
            headers=AUTH,
        )
        bad_alert = await stack.http.post(
            "/events/alertmanager", json={"version": "4", "alerts": [{"status": "burning"}]}, headers=AUTH
        )
        posted = await channel_texts(stack)
    assert [r.status_code for r in (missing, wrong, wrong_query)] == [401, 401, 401]
    assert missing.json()["error"] == "missing or wrong events token"
    assert not_json.status_code == 400 and "not valid JSON" in not_json.json()["error"]
    assert no_records.status_code == 400 and "Records" in no_records.json()["error"]
    assert no_key.status_code == 400 and "Records.0.s3.object.key: is required" in no_key.json()["error"]
    assert bad_alert.status_code == 400 and "alerts.0.status" in bad_alert.json()["error"]
    assert posted == []  # nothing refused was acted on


async def test_oversize_s3_document_gets_a_clear_message(client, tmp_path, aws_env):
    s3 = boto3.client("s3", endpoint_url=aws_env)
    s3.create_bucket(Bucket="bulk")
    s3.put_object(Bucket="bulk", Key="big.txt", Body=b"word " * 1000, ContentType="text/plain")
    event = {"Records": [s3_record("ObjectCreated:Put", "bulk", "big.txt", "0077")]}  # no size: the fetch must notice
    async with running_stack(
        client, tmp_path, events_token=TOKEN, aws_endpoint_url=aws_env, document_max_bytes=2048
    ) as stack:
        assert (await stack.http.post("/events/s3", json=event, headers=AUTH)).status_code == 202
        result = await client.get_workflow_handle_for(
            DocumentProcessingWorkflow.run, "doc:s3:bulk/big.txt#0077"
        ).result()
        assert result.status == "failed"
        texts = await wait_until(lambda: channel_texts(stack), "messages")
        assert (
            "I couldn't process big.txt: it is larger than the 2 KB document limit (THREADWORK_DOCUMENT_MAX_BYTES)."
            in texts
        )


async def test_the_events_channel_is_created_when_events_are_enabled(client, tmp_path):
    async with running_stack(client, tmp_path / "off") as stack:
        assert "documents" not in [c["id"] for c in await stack.store.channels()]
    async with running_stack(client, tmp_path / "on", events_token=TOKEN, events_channel="webchat:ops-events") as stack:
        assert "ops-events" in [c["id"] for c in await stack.store.channels()]
