"""Activities that reach a running incident from elsewhere (a session, by conversation).

Workflows cannot send updates to other workflows or read their descriptions, so the
session asks these activities, which use the worker's Temporal client.
"""

from __future__ import annotations

from pydantic import BaseModel, Field
from temporalio import activity
from temporalio.client import Client, WorkflowExecutionStatus, WorkflowUpdateFailedError
from temporalio.service import RPCError, RPCStatusCode

from workflows.contracts import ActionEvent, ActionResult, ConversationKey
from workflows.failures import failure_message
from workflows.incident.incident import IncidentWorkflow
from workflows.incident.incident_links import MEMO_KEY, link_id


class IncidentLookup(BaseModel):
    key: ConversationKey
    #: Incidents the session started and believes running, newest first (checked before the channel link).
    candidates: list[str] = Field(default_factory=list)


class IncidentActionRequest(BaseModel):
    workflow_id: str
    event: ActionEvent


async def is_running(client: Client, workflow_id: str) -> bool:
    try:
        return (await client.get_workflow_handle(workflow_id).describe()).status == WorkflowExecutionStatus.RUNNING
    except RPCError as err:
        if err.status == RPCStatusCode.NOT_FOUND:
            return False
        raise


async def find_incident(client: Client, key: ConversationKey) -> str | None:
    """The running incident whose conversation is ``key``'s channel, or None."""
    try:
        desc = await client.get_workflow_handle(link_id(key)).describe()
    except RPCError as err:
        if err.status == RPCStatusCode.NOT_FOUND:
            return None
        raise
    if desc.status != WorkflowExecutionStatus.RUNNING:
        return None
    return await desc.memo_value(MEMO_KEY, None)


async def send_incident_action(client: Client, workflow_id: str, event: ActionEvent) -> ActionResult:
    """Deliver a command to the incident as the same update its buttons use."""
    try:
        return await client.get_workflow_handle(workflow_id).execute_update(
            IncidentWorkflow.handle_action, event, id=event.event_id or None
        )
    except WorkflowUpdateFailedError as err:
        return ActionResult(ephemeral=failure_message(err))
    except RPCError as err:
        if err.status == RPCStatusCode.NOT_FOUND:
            return ActionResult(ephemeral="That incident has finished.")
        raise


class IncidentActivities:
    def __init__(self, client: Client) -> None:
        self._client = client

    @activity.defn
    async def find_incident_for(self, lookup: IncidentLookup) -> str | None:
        for workflow_id in lookup.candidates:
            if await is_running(self._client, workflow_id):
                return workflow_id
        return await find_incident(self._client, lookup.key)

    @activity.defn
    async def send_incident_action(self, req: IncidentActionRequest) -> ActionResult:
        return await send_incident_action(self._client, req.workflow_id, req.event)
