"""Incident severity levels, shared by the incident, the trigger rules and the event senders' mapping."""

from __future__ import annotations

SEVERITIES = ("SEV1", "SEV2", "SEV3", "SEV4")
#: What an incident gets when nothing (a rule's patterns, an alert's label) names its severity.
DEFAULT_SEVERITY = "SEV3"
