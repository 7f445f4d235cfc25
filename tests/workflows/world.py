"""One test's world: a time-skipping Temporal, the real worker on its own task queue, a recording platform."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from temporalio.client import Client, WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from adapters.base import PlatformRegistry
from tests.workflows import inputs
from tests.workflows.recording import RecordingPlatform
from workflows.contracts import ActionResult, Actor, ConversationKey, SessionState


def minutes(span: timedelta) -> float:
    """A span of workflow time in minutes, to a tenth: timers fire on the minute, activities a few ms later."""
    return round(span / timedelta(minutes=1), 1)


@dataclass
class World:
    env: WorkflowEnvironment
    platform: RecordingPlatform
    #: What the worker's platform activities look platforms up in (holds ``platform``).
    registry: PlatformRegistry
    task_queue: str = field(default_factory=lambda: f"fast-{uuid.uuid4().hex[:8]}")

    @property
    def client(self) -> Client:
        return self.env.client

    # ---- time ------------------------------------------------------------------------

    async def now(self) -> datetime:
        """The test server's virtual clock."""
        return await self.env.get_current_time()

    async def skip(self, span: timedelta) -> None:
        """Let ``span`` of workflow time pass (timers due in it fire); returns at once in wall time."""
        await self.env.sleep(span)

    # ---- sessions --------------------------------------------------------------------

    async def start_session(self, key: ConversationKey, **config: Any) -> WorkflowHandle[Any, SessionState]:
        return await self.client.start_workflow(
            inputs.ChatSessionWorkflow.run,
            inputs.session_input(key, **config),
            id=inputs.session_id(key),
            task_queue=self.task_queue,
        )

    def session(self, key: ConversationKey) -> WorkflowHandle[Any, SessionState]:
        """The session's current run (whichever run continue-as-new made current)."""
        return self.client.get_workflow_handle_for(inputs.ChatSessionWorkflow.run, inputs.session_id(key))

    async def say(
        self, key: ConversationKey, text: str, *, by: Actor | None = None, message_id: str | None = None
    ) -> None:
        """Send a message the way the gateway does (the receive_message update) and wait until it is handled."""
        msg = inputs.message(key, text, by=by, message_id=message_id)
        await self.session(key).execute_update(inputs.ChatSessionWorkflow.receive_message, msg)

    async def state(self, key: ConversationKey) -> SessionState:
        return await self.session(key).query(inputs.ChatSessionWorkflow.get_session_state)

    # ---- incidents --------------------------------------------------------------------

    async def start_incident(self, origin: ConversationKey, title: str, **options: Any) -> WorkflowHandle[Any, Any]:
        return await self.client.start_workflow(
            inputs.IncidentWorkflow.run,
            inputs.incident_input(origin, title, **options),
            id=f"incident-{uuid.uuid4().hex[:8]}",
            task_queue=self.task_queue,
        )

    async def incident_click(
        self, handle: WorkflowHandle[Any, Any], by: Actor, action_id: str, value: str = ""
    ) -> ActionResult:
        state = await handle.query(inputs.IncidentWorkflow.get_incident_state)
        event = inputs.click(state.conversation, by, action_id, value)
        return await handle.execute_update(inputs.IncidentWorkflow.handle_action, event)
