"""SharePoint list webhooks: the validationtoken handshake and change notifications.

A notification only says that a list changed; which files changed comes from Microsoft
Graph (``GraphClient.changed_files``, behind an interface so tests stand a local server
in). Each changed file version starts DocumentProcessingWorkflow under
``doc:sharepoint:{drive}/{item}@{eTag}``, so repeated notifications process a version once.
Every notification's clientState must equal THREADWORK_EVENTS_TOKEN.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, Protocol

from pydantic import BaseModel, Field, ValidationError

from adapters.events.auth import token_matches
from adapters.events.common import BadEvent, explain, natural_id
from adapters.events.starter import EventStarter, Outcome
from workflows.activities.fetchers.graph import ChangedFile


class ChangeSource(Protocol):
    async def changed_files(self, site_url: str, list_id: str, lookback: timedelta) -> list[ChangedFile]: ...


class Notification(BaseModel):
    subscriptionId: str = ""
    clientState: str | None = None
    # Both end up in Graph URLs: a list id (a GUID) and a server-relative path, nothing that could break a URL.
    resource: str = Field(min_length=1, max_length=64, pattern=r"^[{}A-Za-z0-9-]+$")
    siteUrl: str = Field("", max_length=1024, pattern=r"^[^\x00-\x20\x7f?#\\]*$")
    tenantId: str = ""
    webId: str = ""


class Notifications(BaseModel):
    value: list[Notification] = Field(min_length=1)


class NotAuthorized(Exception):
    pass


def parse(body: Any, token: str) -> list[Notification]:
    if not isinstance(body, dict):
        raise BadEvent("body must be a JSON object with a value list")
    try:
        notes = Notifications.model_validate(body).value
    except ValidationError as err:
        raise BadEvent(f"SharePoint notification: {explain(err)}") from err
    if not all(token_matches(n.clientState, token) for n in notes):
        raise NotAuthorized("clientState does not match the events token")
    return notes


async def handle(notes: list[Notification], graph: ChangeSource, starter: EventStarter, lookback: timedelta) -> Outcome:
    outcome = Outcome()
    seen: set[tuple[str, str]] = set()
    for note in notes:
        if (note.siteUrl, note.resource) in seen:
            continue
        seen.add((note.siteUrl, note.resource))
        changed_files = await graph.changed_files(note.siteUrl, note.resource, lookback)
        for changed in changed_files:
            await starter.start_document(
                outcome, natural_id("doc:sharepoint", changed.version_id), changed.file.model_dump()
            )
        if not changed_files:
            minutes = round(lookback.total_seconds() / 60)
            outcome.ignore(
                f"list {note.resource} of site {note.siteUrl or '/'}",
                f"no file of this list changed in the last {minutes} min (THREADWORK_SHAREPOINT_LOOKBACK); "
                "folders and list items without a file are skipped",
            )
    return outcome
