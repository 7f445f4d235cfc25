"""The postmortem draft: a Markdown document built from the incident's recorded state.

It fills in what the workflow knows for certain (times, people, timeline, approvals,
who changed what) and leaves headed sections for what only people can write.
"""

from __future__ import annotations

from workflows.incident.incident_card import duration_text, who
from workflows.incident.incident_models import IncidentState


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_postmortem(state: IncidentState) -> str:
    end = state.resolved_at or state.last_update_at
    lines = [
        f"# Postmortem (draft): {state.title}",
        "",
        "| Field | Value |",
        "|---|---|",
        f"| Severity | {state.severity} |",
        f"| Status | {state.status} |",
        f"| Started | {state.started_at:%Y-%m-%d %H:%M:%S} UTC |",
        f"| Resolved | {end:%Y-%m-%d %H:%M:%S} UTC |",
        f"| Duration | {duration_text(end - state.started_at)} |",
        f"| Reported by | {_cell(who(state.reporter))} |",
        f"| Commander | {_cell(who(state.commander))} |",
        f"| Responders | {_cell(', '.join(state.responders) or 'none configured')} |",
        "",
        "## Summary",
        "",
        "_What happened, in two or three sentences._",
        "",
        "## Timeline (UTC)",
        "",
    ]
    lines += [f"- {e.at:%H:%M:%S} **{_cell(e.actor)}** ({e.kind}): {_cell(e.text)}" for e in state.timeline] or [
        "- (empty)"
    ]
    lines += ["", "## Approvals", ""]
    if state.approvals:
        lines += ["| Question | Outcome | By | At |", "|---|---|---|---|"]
        for a in state.approvals:
            at = f"{a.decided_at:%H:%M:%S}" if a.decided_at else ""
            by = who(a.decided_by) if a.decided_by else ""
            lines.append(f"| {_cell(a.question)} | {a.outcome} | {_cell(by)} | {at} |")
    else:
        lines.append("None.")
    lines += ["", "## Decisions and changes", ""]
    changes = list(state.decisions)
    if changes:
        lines += ["| At | Who | Action | Detail | Allowed |", "|---|---|---|---|---|"]
        for d in changes:
            lines.append(
                f"| {d.at:%H:%M:%S} | {_cell(d.actor_name or d.actor_id)} | {d.action} | {_cell(d.detail)} | {'yes' if d.allowed else 'no'} |"
            )
    else:
        lines.append("None recorded.")
    lines += [
        "",
        "## Impact",
        "",
        "_Who and what was affected, and for how long._",
        "",
        "## Root cause",
        "",
        "_Why it happened._",
        "",
        "## Action items",
        "",
        "- [ ] _Follow-up, owner, due date_",
        "",
    ]
    return "\n".join(lines)
