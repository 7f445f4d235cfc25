"""Gateway metrics: our own counters plus the Temporal SDK's, as one Prometheus page."""

from __future__ import annotations

import httpx
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Gauge, generate_latest

from bots import temporal

MESSAGES = Counter(
    "threadwork_messages_total", "Inbound chat messages by platform and outcome", ["platform", "outcome"]
)
ACTIONS = Counter("threadwork_actions_total", "Button clicks by platform", ["platform"])
QUEUE_DEPTH = Gauge(
    "threadwork_inbound_queue_depth", "Messages in the gateway's inbound queue not yet accepted by their session"
)
QUEUE_OLDEST_AGE = Gauge(
    "threadwork_inbound_queue_oldest_age_seconds",
    "Age of the oldest message waiting in the inbound queue (0 when empty)",
)
QUEUE_RETRIES = Counter("threadwork_inbound_queue_retries_total", "Deliveries left queued after a transient failure")


async def render() -> tuple[bytes, str]:
    body = generate_latest()
    address = temporal.metrics_address()
    if address:
        try:
            async with httpx.AsyncClient(timeout=2) as client:
                sdk = await client.get(f"http://{address}/metrics")
            body += b"\n" + sdk.content
        except httpx.HTTPError:
            body += b"\n# Temporal SDK metrics unavailable\n"
    return body, CONTENT_TYPE_LATEST
