"""Alertmanager-shaped webhooks: Prometheus Alertmanager (version 4) and Grafana contact points (version 1).

A firing alert starts IncidentWorkflow under ``incident:alert:{fingerprint}@{startsAt}``:
resends of the same alert (same fingerprint, same start) land on the same workflow, so
they open nothing new, and a late resend after resolution is refused. A resolved alert
calls that incident's ``system_resolve`` update.

What real senders send and this accepts:
- Grafana's webhook contact point says ``"version": "1"`` and adds fields (``orgId``,
  ``title``, ``state``, ``message``, per-alert ``values``, ``silenceURL``...), ignored here.
- Bridges and older senders put ``status`` only on the group: an alert without its own
  status takes the group's.
- Grafana's contact point *Test* button sends a ``TestAlert`` from ``instance=Grafana``:
  that posts a notice (so the operator sees the wiring works) instead of opening an incident.
- Grafana's legacy alerting (no ``alerts`` list, ``ruleId`` and ``state``) is handled by
  grafana_legacy.py.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, Field, ValidationError

from adapters.events import grafana_legacy
from adapters.events.common import BadEvent, explain, natural_id
from adapters.events.severity import severity_of
from adapters.events.starter import EventStarter, Outcome

#: Payload versions by sender; anything else is refused with a reason (a shape we do not know).
VERSIONS = {"4": "Alertmanager", "1": "Grafana"}


class Alert(BaseModel):
    #: None when the sender sets status only on the group (filled in by ``parse``).
    status: Literal["firing", "resolved"] | None = None
    labels: dict[str, str] = Field(default_factory=dict)
    annotations: dict[str, str] = Field(default_factory=dict)
    startsAt: datetime
    endsAt: datetime | None = None
    generatorURL: str = ""
    fingerprint: str = ""

    def key(self) -> str:
        # Alertmanager's fingerprint is a hash of the label set; compute one if a sender omits it.
        fp = self.fingerprint or hashlib.sha256(json.dumps(self.labels, sort_keys=True).encode()).hexdigest()[:16]
        start = self.startsAt.astimezone(UTC).strftime("%Y%m%dT%H%M%S.%fZ")
        return f"{fp}@{start}"

    def name(self) -> str:
        return self.labels.get("alertname", "alert")

    def title(self) -> str:
        summary = self.annotations.get("summary") or self.annotations.get("description") or ""
        where = self.labels.get("instance") or self.labels.get("service") or self.labels.get("job") or ""
        return f"{self.name()}: {summary}" if summary else f"{self.name()} on {where}" if where else self.name()

    def severity(self) -> str:
        return severity_of(self.labels.get("severity", ""))

    def is_grafana_test(self) -> bool:
        """The alert Grafana's contact point *Test* button sends (labels fixed by Grafana)."""
        return (
            self.labels.get("alertname") == "TestAlert"
            and self.labels.get("instance") == "Grafana"
            and self.annotations.get("summary") == "Notification test"
        )


class AlertmanagerWebhook(BaseModel):
    version: str = "4"
    status: str = ""
    receiver: str = ""
    externalURL: str = ""
    alerts: list[Alert] = Field(min_length=1)

    def sender(self) -> str:
        return VERSIONS.get(self.version, "Alertmanager")


def parse(body: Any) -> AlertmanagerWebhook | grafana_legacy.LegacyAlert:
    if not isinstance(body, dict):
        raise BadEvent("body must be a JSON object")
    if grafana_legacy.is_legacy(body):
        return grafana_legacy.parse(body)
    version = str(body.get("version", "4"))
    if version not in VERSIONS:
        raise BadEvent(
            f"webhook version {body.get('version')!r} is not supported "
            "(expected 4 from Alertmanager or 1 from a Grafana contact point)"
        )
    try:
        hook = AlertmanagerWebhook.model_validate(body)
    except ValidationError as err:
        raise BadEvent(f"Alertmanager webhook: {explain(err)}") from err
    for n, alert in enumerate(hook.alerts):
        if alert.status is None:
            if hook.status not in ("firing", "resolved"):
                raise BadEvent(
                    f"Alertmanager webhook: alerts.{n}.status: is required "
                    "(the group has no firing/resolved status to fall back on)"
                )
            alert.status = hook.status  # type: ignore[assignment]
    return hook


def incident_id(alert: Alert) -> str:
    return natural_id("incident:alert", alert.key())


async def handle(hook: AlertmanagerWebhook | grafana_legacy.LegacyAlert, starter: EventStarter) -> Outcome:
    if isinstance(hook, grafana_legacy.LegacyAlert):
        return await grafana_legacy.handle(hook, starter)
    outcome = Outcome()
    for alert in hook.alerts:
        wid = incident_id(alert)
        if alert.is_grafana_test():
            where = hook.externalURL or hook.receiver or "Grafana"
            text = f"Grafana contact point test received from {where} ({alert.status}); no incident opened."
            await starter.notice(outcome, natural_id("notice:grafana-test", f"{alert.key()}#{alert.status}"), text)
            continue
        if alert.status == "firing":
            args = {"alert": alert.model_dump(mode="json"), "source": hook.sender().lower(), "receiver": hook.receiver}
            await starter.start(outcome, "IncidentWorkflow", wid, alert.title(), args, severity=alert.severity())
            continue
        await starter.resolve(
            outcome,
            wid,
            f"alert {alert.name()} resolved in {hook.receiver or hook.sender()}",
            what=f"alert {alert.name()}",
        )
    return outcome
