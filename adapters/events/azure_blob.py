"""Azure Event Grid deliveries of Blob Storage events (Event Grid schema and CloudEvents 1.0).

The Event Grid schema's SubscriptionValidationEvent is answered with its code; the
CloudEvents handshake (an OPTIONS request with WebHook-Request-Origin) lives in routes.py.
BlobCreated starts DocumentProcessingWorkflow, BlobDeleted posts a notice, each under
``{doc|notice}:azure:{blob url}#{sequencer}``. With a hierarchical namespace (Data Lake
Gen2) a file's ``CreateFile`` BlobCreated comes before its content and is ignored: the
``FlushWithClose`` one that follows carries the file, whose ``dfs`` URL is read through
the account's blob endpoint. Other event types are accepted and ignored, with the reason.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote, urlsplit

from pydantic import BaseModel, Field, ValidationError

from adapters.events.common import BadEvent, explain, natural_id
from adapters.events.starter import EventStarter, Outcome

VALIDATION = "Microsoft.EventGrid.SubscriptionValidationEvent"
CREATED = "Microsoft.Storage.BlobCreated"
DELETED = "Microsoft.Storage.BlobDeleted"


class BlobData(BaseModel):
    api: str = ""
    url: str = ""
    contentType: str = ""
    contentLength: int | None = None
    sequencer: str = ""
    validationCode: str = ""


class GridEvent(BaseModel):
    """One event in either schema, reduced to what we use."""

    id: str = Field(min_length=1)
    type: str = Field(min_length=1)
    subject: str = ""
    data: BlobData = Field(default_factory=BlobData)


def parse(body: Any) -> list[GridEvent]:
    items = body if isinstance(body, list) else [body]
    if not items:
        raise BadEvent("no events in the body")
    events = []
    for n, item in enumerate(items):
        if not isinstance(item, dict):
            raise BadEvent(f"event {n} is not a JSON object")
        if "specversion" in item:  # CloudEvents 1.0
            raw = {
                "id": item.get("id"),
                "type": item.get("type"),
                "subject": item.get("subject", ""),
                "data": item.get("data") or {},
            }
        elif "eventType" in item:  # Event Grid schema
            raw = {
                "id": item.get("id"),
                "type": item.get("eventType"),
                "subject": item.get("subject", ""),
                "data": item.get("data") or {},
            }
        else:
            raise BadEvent(f"event {n} is neither an Event Grid event (eventType) nor a CloudEvent (specversion)")
        try:
            events.append(GridEvent.model_validate(raw))
        except ValidationError as err:
            raise BadEvent(f"event {n}: {explain(err)}") from err
    return events


def validation_code(events: list[GridEvent]) -> str | None:
    for event in events:
        if event.type == VALIDATION:
            if not event.data.validationCode:
                raise BadEvent("SubscriptionValidationEvent without data.validationCode")
            return event.data.validationCode
    return None


async def handle(events: list[GridEvent], starter: EventStarter) -> Outcome:
    outcome = Outcome()
    for event in events:
        if event.type not in (CREATED, DELETED):
            outcome.ignore(
                f"{event.type} {event.id}", f"{event.type} is not acted on (only BlobCreated and BlobDeleted are)"
            )
            continue
        if not event.data.url.startswith(("http://", "https://")):
            raise BadEvent(f"event {event.id}: data.url is not a blob URL")
        if event.type == CREATED and event.data.api == "CreateFile":
            outcome.ignore(
                f"{event.type} {event.id}",
                "Data Lake CreateFile: the file is still empty; its FlushWithClose BlobCreated brings the content",
            )
            continue
        event_id = f"{event.data.url}#{event.data.sequencer or event.id}"
        if event.type == CREATED:
            name = unquote(urlsplit(event.data.url).path.rsplit("/", 1)[-1])
            doc = {
                "name": name,
                "url": blob_endpoint_url(event.data.url),
                "mimetype": event.data.contentType,
                "size": event.data.contentLength,
                "source": "azure_blob",
            }
            await starter.start_document(outcome, natural_id("doc:azure", event_id), doc)
        else:
            await starter.notice(outcome, natural_id("notice:azure", event_id), f"Azure blob deleted: {event.data.url}")
    return outcome


def blob_endpoint_url(url: str) -> str:
    """A Data Lake ``https://acct.dfs.core.windows.net/fs/path`` as the same file on the blob endpoint."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ".dfs." not in host:
        return url
    return parts._replace(netloc=parts.netloc.replace(".dfs.", ".blob.", 1)).geturl()
