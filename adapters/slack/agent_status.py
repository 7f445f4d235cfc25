"""Slack agent sessions (the agent messaging experience): the session's status follows the workflow.

``processing`` while a turn runs (Slack shows a Stop button), ``active`` when the turn is over,
``closed`` when the session ends; ``suspended`` is the fourth value Slack accepts. Only apps
declared as agents (``threadwork manifest slack --agent``, THREADWORK_SLACK_AGENT) have sessions,
so without that setting this is a no-op. A refused status is logged and never fails a reply.
"""

from __future__ import annotations

import logging
from typing import Protocol

from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

log = logging.getLogger(__name__)

AGENT_SESSION_STATUSES = ("processing", "active", "suspended", "closed")


class Thread(Protocol):
    @property
    def channel(self) -> str: ...

    @property
    def thread_ts(self) -> str | None: ...


class AgentStatus:
    def __init__(self, client: AsyncWebClient, enabled: bool, initiator: str | None = None) -> None:
        self._client = client
        self.enabled = enabled
        self._initiator = initiator

    async def set(self, where: Thread, status: str) -> None:
        if status not in AGENT_SESSION_STATUSES:
            raise ValueError(f"agent session status must be one of {AGENT_SESSION_STATUSES}, not {status!r}")
        if not self.enabled or where.thread_ts is None:
            return
        try:
            await self._client.agents_sessions_setStatus(
                channel_id=where.channel, thread_ts=where.thread_ts, status=status, initiator_user_id=self._initiator
            )
        except (SlackClientError, OSError) as err:
            code = err.response.get("error", "") if isinstance(err, SlackApiError) else str(err)
            log.warning("Slack agents.sessions.setStatus %s in %s failed: %s", status, where.channel, code)
