"""The incident as a child workflow: its one ChildSpec (registered in workflows/builtin_children.py)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from workflows.childspec import ChildSpec, WorkerResources
from workflows.incident.activities import IncidentActivities
from workflows.incident.ai_activities import IncidentAIActivities
from workflows.incident.incident import IncidentWorkflow
from workflows.incident.incident_links import IncidentLinkWorkflow
from workflows.incident.incident_models import IncidentOptions
from workflows.incident.incident_routing import IncidentHooks


def incident_options(settings: Any) -> dict[str, Any]:
    """IncidentOptions from the THREADWORK_INCIDENT_* settings (bots.config.Settings)."""
    return {
        "responders": [r for r in settings.incident_responders.replace(",", " ").split() if r],
        "update_interval_seconds": settings.incident_update_interval,
        "approval_timeout_seconds": settings.incident_approval_timeout,
        "announce_channels": IncidentOptions.model_validate(
            {"announce_channels": settings.incident_announce_channels}
        ).announce_channels,
    }


def incident_activities(resources: WorkerResources) -> Sequence[Callable[..., Any]]:
    incidents = IncidentActivities(resources.client)
    writer = IncidentAIActivities(resources.options.llm)  # catch-up, drafts, narrative
    return [incidents.find_incident_for, incidents.send_incident_action, writer.write_incident_text]


INCIDENT = ChildSpec(
    workflow=IncidentWorkflow,
    kind="incident",
    display_name="incident response",
    description="Incident response: its own conversation, a live card, approvals, reminders, a postmortem.",
    options=IncidentOptions,
    configure=incident_options,
    activities=incident_activities,
    helper_workflows=(IncidentLinkWorkflow,),
    session_hooks=IncidentHooks,
)
