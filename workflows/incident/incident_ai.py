"""Incident texts drafted for humans: ``incident catch up`` (and the card's Catch up button),
Draft update, and the postmortem's narrative. The model writes them from the durable timeline
when one is configured; otherwise (or when it fails) a deterministic version is used. Either
way the text says which it is, and nothing here changes the incident by itself.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from workflows.delivery import DELIVERY_FAILURES
    from workflows.incident.ai_activities import IncidentAIActivities, IncidentTextRequest, Kind
    from workflows.incident.incident_card import duration_text, who
    from workflows.incident.incident_models import IncidentState

AI_RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_attempts=2)
#: Incidents recorded before the AI narrative replay without its activity.
NARRATIVE_PATCH = "incident-ai-narrative-v1"
#: Slack limits a button's value to 2,000 characters; a draft longer than this is cut.
MAX_DRAFT = 1900
LABELS = {
    ("catch_up", True): "Catch-up (AI draft from the incident timeline; check before relying on it)",
    ("catch_up", False): "Catch-up (no language model: the incident's latest recorded entries)",
    ("draft_update", True): "Draft stakeholder update (AI draft: edit before posting)",
    ("draft_update", False): "Draft stakeholder update (no language model: built from the latest entries)",
    ("narrative", True): "## Narrative (AI draft: review before sharing)",
    (
        "narrative",
        False,
    ): "## Narrative\n\n_No language model is configured, so no narrative was drafted: the sections above come from the record._",
}


def facts(state: IncidentState, now: datetime, limit: int = 60) -> str:
    """What the model may use: the card's fields, the timeline (pinned notes included) and approvals."""
    end = state.resolved_at or now
    lines = [
        f"Incident: {state.title}",
        f"Severity: {state.severity}; status: {state.status}; commander: {who(state.commander)}",
        f"Started {state.started_at:%Y-%m-%d %H:%M} UTC; running for {duration_text(end - state.started_at)}",
        "Timeline (UTC):",
    ]
    lines += [f"- {e.at:%H:%M:%S} {e.actor} ({e.kind}): {e.text}" for e in state.timeline[-limit:]] or ["- (empty)"]
    if state.approvals:
        lines.append("Approvals:")
        lines += [f"- {a.question}: {a.outcome}" for a in state.approvals]
    return "\n".join(lines)


def catch_up_fallback(state: IncidentState, now: datetime, recent: int = 10) -> str:
    end = state.resolved_at or now
    head = (
        f"{state.title}: {state.severity}, {state.status}, commander {who(state.commander)}, "
        f"running for {duration_text(end - state.started_at)}; {len(state.timeline)} timeline entries."
    )
    lines = [head]
    if len(state.timeline) > recent:
        lines.append(f"Latest {recent}:")
    lines += [f"• {e.at:%H:%M} {e.actor}: {e.text}" for e in state.timeline[-recent:]]
    return "\n".join(lines)


def draft_update_fallback(state: IncidentState, now: datetime) -> str:
    latest = next((e.text for e in reversed(state.timeline) if e.kind in ("update", "note", "status")), "")
    text = f"{state.title} ({state.severity}) is {state.status}; {who(state.commander)} is leading the response."
    if latest:
        text += f" Latest: {latest}"
    return text + " Next update within 30 minutes."


class IncidentAI:
    """The workflow side: ask the activity, fall back when there is no model or it fails."""

    async def write(self, kind: Kind, state: IncidentState, now: datetime) -> tuple[str, bool]:
        """(text, written by the model)."""
        try:
            text = await workflow.execute_activity_method(
                IncidentAIActivities.write_incident_text,
                IncidentTextRequest(kind=kind, facts=facts(state, now)),
                start_to_close_timeout=timedelta(seconds=60),
                retry_policy=AI_RETRY,
            )
        except DELIVERY_FAILURES as err:
            workflow.logger.warning("the language model could not write the %s: %s", kind, err.cause or err)
            text = None
        if text:
            return text, True
        if kind == "catch_up":
            return catch_up_fallback(state, now), False
        if kind == "draft_update":
            return draft_update_fallback(state, now), False
        return "", False

    async def catch_up(self, state: IncidentState, now: datetime) -> str:
        text, by_model = await self.write("catch_up", state, now)
        return f"{LABELS['catch_up', by_model]}:\n{text}"

    async def draft_update(self, state: IncidentState, now: datetime) -> tuple[str, str]:
        """(the labelled message, the draft itself: what Post this update posts)."""
        text, by_model = await self.write("draft_update", state, now)
        draft = text[:MAX_DRAFT]
        return f"{LABELS['draft_update', by_model]}:\n{draft}", draft

    async def narrative(self, state: IncidentState, now: datetime) -> str:
        """The postmortem's narrative section (Markdown), marked as a draft."""
        text, by_model = await self.write("narrative", state, now)
        return f"\n{LABELS['narrative', by_model]}\n" + (f"\n{text}\n" if by_model else "")
