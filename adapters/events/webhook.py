"""``POST /events/webhook/{name}``: generic JSON to the custom workflow registered under ``name``.

The natural id is the sender's ``Idempotency-Key`` (or ``X-Request-Id``) header, else the
body's ``id`` field, else a digest of the body: a redelivery starts nothing new.
"""

from __future__ import annotations

from typing import Any

from adapters.events.common import BadEvent, body_digest, natural_id
from adapters.events.starter import EventStarter, Outcome
from workflows.registry import CustomWorkflow


def event_id(headers: Any, body: dict[str, Any]) -> str:
    for header in ("Idempotency-Key", "X-Request-Id"):
        if headers.get(header):
            return str(headers[header])
    if isinstance(body.get("id"), (str, int)) and str(body["id"]):
        return str(body["id"])
    return body_digest(body)


async def handle(target: CustomWorkflow, headers: Any, body: Any, starter: EventStarter) -> Outcome:
    if not isinstance(body, dict):
        raise BadEvent("body must be a JSON object")
    outcome = Outcome()
    name = target.spec.name
    title = str(body.get("title") or body.get("text") or name)
    args = {"payload": body, "text": str(body.get("text", ""))}
    wid = natural_id(f"webhook:{name}", event_id(headers, body))
    await starter.start(outcome, target.workflow_type, wid, title, args)
    return outcome
