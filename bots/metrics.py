"""Gateway metrics: our own counters plus the Temporal SDK's, as one Prometheus page."""

from __future__ import annotations

import httpx
from prometheus_client import CONTENT_TYPE_LATEST, Counter, generate_latest

from bots import temporal

MESSAGES = Counter(
    "threadwork_messages_total", "Inbound chat messages by platform and outcome", ["platform", "outcome"]
)
ACTIONS = Counter("threadwork_actions_total", "Button clicks by platform", ["platform"])


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
