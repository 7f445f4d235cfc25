"""The incident feature: IncidentWorkflow, its card, models, routing of chat commands, postmortem,
channel links and activities. It plugs into sessions through one ChildSpec (spec.py)."""

from workflows.incident.incident import IncidentWorkflow

__all__ = ["IncidentWorkflow"]
