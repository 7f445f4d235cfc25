"""Grafana legacy alerting webhooks (Grafana before unified alerting, and installs that kept it).

One alert rule per payload: ``ruleId``, ``ruleName``, ``state`` (``alerting``, ``ok``,
``no_data``, ``paused``, ``pending``), ``message``, ``evalMatches``, no ``alerts`` list.
The payload has no start time, so the incident id is the rule, ``incident:grafana:{org}/{rule}``,
and may open again after its incident closed: while one is open, repeats (Grafana's
reminders) land on it; ``ok`` resolves it.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field, ValidationError
from temporalio.common import WorkflowIDReusePolicy

from adapters.events.common import BadEvent, explain, natural_id
from adapters.events.severity import severity_of
from adapters.events.starter import EventStarter, Outcome


class LegacyAlert(BaseModel):
    ruleId: int
    ruleName: str = ""
    ruleUrl: str = ""
    state: str = Field(min_length=1)
    title: str = ""
    message: str = ""
    orgId: int = 0
    dashboardId: int | None = None
    panelId: int | None = None
    tags: dict[str, Any] | None = None
    evalMatches: list[dict[str, Any]] | None = None

    def name(self) -> str:
        return self.ruleName or self.title or f"Grafana rule {self.ruleId}"

    def incident_title(self) -> str:
        return f"{self.name()}: {self.message}" if self.message else self.name()

    def severity(self) -> str:
        return severity_of((self.tags or {}).get("severity", ""))


def is_legacy(body: dict[str, Any]) -> bool:
    return "alerts" not in body and ("ruleId" in body or "evalMatches" in body)


def parse(body: dict[str, Any]) -> LegacyAlert:
    try:
        return LegacyAlert.model_validate(body)
    except ValidationError as err:
        raise BadEvent(f"Grafana legacy alert: {explain(err)}") from err


def incident_id(alert: LegacyAlert) -> str:
    return natural_id("incident:grafana", f"{alert.orgId}/{alert.ruleId}")


async def handle(alert: LegacyAlert, starter: EventStarter) -> Outcome:
    outcome = Outcome()
    wid = incident_id(alert)
    if alert.state == "alerting":
        args = {"alert": alert.model_dump(mode="json"), "source": "grafana"}
        await starter.start(
            outcome,
            "IncidentWorkflow",
            wid,
            alert.incident_title(),
            args,
            severity=alert.severity(),
            reuse=WorkflowIDReusePolicy.ALLOW_DUPLICATE,
        )
    elif alert.state == "ok":
        await starter.resolve(
            outcome, wid, f"Grafana rule {alert.name()} is OK again", what=f"Grafana rule {alert.name()}"
        )
    else:
        outcome.ignore(
            wid,
            f"Grafana state {alert.state!r} of rule {alert.name()} opens nothing "
            "(only 'alerting' opens an incident and 'ok' resolves it)",
        )
    return outcome
