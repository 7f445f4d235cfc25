"""Severity words senders use (Alertmanager labels, Grafana tags) -> the incident's SEV level."""

from __future__ import annotations

from workflows.severity import DEFAULT_SEVERITY

SEVERITIES = {
    "critical": "SEV1",
    "page": "SEV1",
    "sev1": "SEV1",
    "p1": "SEV1",
    "error": "SEV2",
    "major": "SEV2",
    "high": "SEV2",
    "sev2": "SEV2",
    "p2": "SEV2",
    "warning": "SEV3",
    "minor": "SEV3",
    "medium": "SEV3",
    "sev3": "SEV3",
    "p3": "SEV3",
    "info": "SEV4",
    "low": "SEV4",
    "sev4": "SEV4",
    "p4": "SEV4",
}


def severity_of(word: object) -> str:
    return SEVERITIES.get(str(word or "").strip().lower(), DEFAULT_SEVERITY)
