"""S3 event notifications from AWS (raw or inside an SNS envelope), MinIO and other S3-compatible stores.

ObjectCreated:* starts DocumentProcessingWorkflow, ObjectRemoved:* posts a notice;
both under ``{doc|notice}:s3:{bucket}/{key}#{sequencer}`` so a redelivery is a no-op.
AWS names events without a prefix (``ObjectCreated:Put``); MinIO and most S3-compatible
stores prefix them (``s3:ObjectCreated:Put``) and add top-level fields (``EventName``,
``Key``), both accepted. Other events (``s3:TestEvent``, ObjectAccessed, ObjectRestore...)
and SNS messages that are not S3 notifications are accepted and ignored, with the reason.
An SNS SubscriptionConfirmation is not confirmed from here (no outbound network from
the gateway is assumed): its SubscribeURL is logged and returned for the operator.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import unquote_plus

from pydantic import BaseModel, Field, ValidationError

from adapters.events.common import BadEvent, explain, natural_id
from adapters.events.starter import EventStarter, Outcome
from adapters.http_body import parse_json

log = logging.getLogger(__name__)


class S3Object(BaseModel):
    key: str = Field(min_length=1)
    size: int | None = None
    eTag: str = ""
    sequencer: str = ""


class S3Bucket(BaseModel):
    name: str = Field(min_length=1)


class S3Entity(BaseModel):
    bucket: S3Bucket
    object: S3Object


class S3Record(BaseModel):
    eventName: str = Field(min_length=1)
    eventTime: str = ""
    s3: S3Entity


class S3Notification(BaseModel):
    Records: list[S3Record] = Field(min_length=1)


class SnsEnvelope(BaseModel):
    Type: str
    MessageId: str = ""
    Message: str = ""
    SubscribeURL: str = ""
    TopicArn: str = ""


def unwrap(body: Any) -> tuple[str, Any]:
    """("sns-confirm" | "not-s3", envelope) | ("test", body) | ("records", S3Notification)."""
    if not isinstance(body, dict):
        raise BadEvent("body must be a JSON object")
    if "Type" in body and "Records" not in body:
        try:
            envelope = SnsEnvelope.model_validate(body)
        except ValidationError as err:
            raise BadEvent(f"SNS envelope: {explain(err)}") from err
        if envelope.Type in ("SubscriptionConfirmation", "UnsubscribeConfirmation"):
            return "sns-confirm", envelope
        if envelope.Type != "Notification":
            raise BadEvent(f"unknown SNS message type {envelope.Type!r}")
        # A topic may carry plain-text messages too: those are not for this route. JSON is read
        # hardened like a body (too deep, huge numbers, lone surrogates: a 400 that says why).
        looks_like_json = envelope.Message.lstrip()[:1] in ("{", "[")
        body = parse_json(envelope.Message, require_object=False, what="SNS Message") if looks_like_json else None
        if not isinstance(body, dict) or not ("Records" in body or "Event" in body):
            # The topic carries other messages too: nothing for this route, and no point retrying.
            return "not-s3", envelope
    if body.get("Event") == "s3:TestEvent":
        return "test", body
    try:
        return "records", S3Notification.model_validate(body)
    except ValidationError as err:
        raise BadEvent(f"S3 notification: {explain(err)}") from err


async def handle(body: Any, starter: EventStarter) -> tuple[Outcome, dict[str, Any]]:
    kind, parsed = unwrap(body)
    outcome = Outcome()
    if kind == "sns-confirm":
        log.warning("SNS %s for %s: open %s to confirm", parsed.Type, parsed.TopicArn, parsed.SubscribeURL)
        return outcome, {
            "sns": parsed.Type,
            "subscribe_url": parsed.SubscribeURL,
            "detail": "not confirmed automatically: open subscribe_url (it is in the gateway log too)",
        }
    if kind == "not-s3":
        outcome.ignore(
            f"sns:{parsed.MessageId or parsed.TopicArn}",
            f"SNS message from {parsed.TopicArn or 'an unknown topic'} is not an S3 event notification",
        )
        return outcome, {}
    if kind == "test":
        outcome.ignore(
            "s3:TestEvent",
            f"S3 test event for bucket {parsed.get('Bucket', '?')}: the notification is set up; nothing to process",
        )
        return outcome, {}
    for record in parsed.Records:
        bucket, key = record.s3.bucket.name, unquote_plus(record.s3.object.key)
        version = record.s3.object.sequencer or record.s3.object.eTag or record.eventTime
        event_id = f"{bucket}/{key}#{version}"
        event = event_type(record.eventName)
        if event.startswith("ObjectCreated:"):
            doc = {
                "name": key.rsplit("/", 1)[-1],
                "url": f"s3://{bucket}/{key}",
                "size": record.s3.object.size,
                "source": "s3",
            }
            await starter.start_document(outcome, natural_id("doc:s3", event_id), doc)
        elif event.startswith("ObjectRemoved:"):
            await starter.notice(outcome, natural_id("notice:s3", event_id), f"S3 object removed: s3://{bucket}/{key}")
        else:
            outcome.ignore(
                f"{record.eventName} {event_id}",
                f"{record.eventName} is not acted on (only ObjectCreated:* and ObjectRemoved:* are)",
            )
    return outcome, {}


def event_type(name: str) -> str:
    """``ObjectCreated:Put`` whether the sender wrote it so (AWS) or as ``s3:ObjectCreated:Put`` (MinIO & co)."""
    return name[3:] if name.startswith("s3:") else name
