"""Prometheus Alertmanager webhooks (version 4; Grafana alerting sends the same shape).

A firing alert starts IncidentWorkflow under ``incident:alert:{fingerprint}@{startsAt}``:
resends of the same alert (same fingerprint, same start) land on the same workflow, so
they open nothing new, and a late resend after resolution is refused. A resolved alert
calls that incident's ``system_resolve`` update.
"""

from __future__ import annotations

import hashlib
import json
import logging
from datetime import datetime, timezone
from typing import Any

from pydantic import BaseModel, Field, ValidationError
from temporalio.client import WorkflowUpdateFailedError
from temporalio.service import RPCError, RPCStatusCode

from adapters.events.common import BadEvent, explain, natural_id
from adapters.events.starter import EventStarter, Outcome

log = logging.getLogger(__name__)

SEVERITIES = {
    "critical": "SEV1", "page": "SEV1", "sev1": "SEV1", "p1": "SEV1",
    "error": "SEV2", "major": "SEV2", "high": "SEV2", "sev2": "SEV2", "p2": "SEV2",
    "warning": "SEV3", "minor": "SEV3", "medium": "SEV3", "sev3": "SEV3", "p3": "SEV3",
    "info": "SEV4", "low": "SEV4", "sev4": "SEV4", "p4": "SEV4",
}


class Alert(BaseModel):
    status: str = Field(pattern="^(firing|resolved)$")
    labels: dict[str, str] = Field(default_factory=dict)
    annotations: dict[str, str] = Field(default_factory=dict)
    startsAt: datetime
    endsAt: datetime | None = None
    generatorURL: str = ""
    fingerprint: str = ""

    def key(self) -> str:
        # Alertmanager's fingerprint is a hash of the label set; compute one if a sender omits it.
        fp = self.fingerprint or hashlib.sha256(json.dumps(self.labels, sort_keys=True).encode()).hexdigest()[:16]
        start = self.startsAt.astimezone(timezone.utc).strftime("%Y%m%dT%H%M%S.%fZ")
        return f"{fp}@{start}"

    def title(self) -> str:
        name = self.labels.get("alertname", "alert")
        summary = self.annotations.get("summary") or self.annotations.get("description") or ""
        where = self.labels.get("instance") or self.labels.get("service") or self.labels.get("job") or ""
        return f"{name}: {summary}" if summary else f"{name} on {where}" if where else name

    def severity(self) -> str:
        return SEVERITIES.get(self.labels.get("severity", "").lower(), "SEV3")


class AlertmanagerWebhook(BaseModel):
    version: str = "4"
    status: str = ""
    receiver: str = ""
    externalURL: str = ""
    alerts: list[Alert] = Field(min_length=1)


def parse(body: Any) -> AlertmanagerWebhook:
    if not isinstance(body, dict):
        raise BadEvent("body must be a JSON object")
    if str(body.get("version", "4")) != "4":
        raise BadEvent(f"webhook version {body.get('version')!r} is not supported (expected 4)")
    try:
        return AlertmanagerWebhook.model_validate(body)
    except ValidationError as err:
        raise BadEvent(f"Alertmanager webhook: {explain(err)}") from err


def incident_id(alert: Alert) -> str:
    return natural_id("incident:alert", alert.key())


async def handle(hook: AlertmanagerWebhook, starter: EventStarter) -> Outcome:
    outcome = Outcome()
    for alert in hook.alerts:
        wid = incident_id(alert)
        if alert.status == "firing":
            args = {"alert": alert.model_dump(mode="json"), "source": "alertmanager", "receiver": hook.receiver}
            await starter.start(outcome, "IncidentWorkflow", wid, alert.title(), args, severity=alert.severity())
            continue
        reason = f"alert {alert.labels.get('alertname', '')} resolved in {hook.receiver or 'Alertmanager'}".replace("  ", " ")
        try:
            await starter.client.get_workflow_handle(wid).execute_update("system_resolve", reason)
        except RPCError as err:
            if err.status != RPCStatusCode.NOT_FOUND:
                raise
            # Never opened here, or already resolved and closed: nothing left to do.
            outcome.ignored.append(wid)
            continue
        except WorkflowUpdateFailedError as err:
            log.warning("resolving %s failed: %s", wid, err.cause or err)
            outcome.ignored.append(wid)
            continue
        outcome.updated.append(wid)
    return outcome
