"""The message metadata every threadwork message in Slack carries: its idempotency key.

A retried post finds its earlier message by it (platform.py), and thread membership
recognises the session's own replies by it (thread_membership.py).
"""

from __future__ import annotations

from typing import Any

METADATA_EVENT = "threadwork_post"


def post_metadata(part_key: str) -> dict[str, Any]:
    return {"event_type": METADATA_EVENT, "event_payload": {"key": part_key}}


def unsure_post_key(idempotency_key: str) -> str:
    """PostedLog key saying a post under ``idempotency_key`` failed after it may have reached Slack."""
    return f"{idempotency_key}#unsure"
