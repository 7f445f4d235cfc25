"""Operator views of sessions (``threadwork sessions ...``), straight from Temporal."""

from __future__ import annotations

from typing import Any

from temporalio.api.enums.v1 import VersioningBehavior
from temporalio.client import Client, WorkflowExecutionStatus, WorkflowHandle
from temporalio.service import RPCError, RPCStatusCode

from bots.config import Settings
from bots.devserver import running_address
from bots.temporal import connect
from workflows.chat_session import ChatSessionWorkflow


def target_for(settings: Settings) -> str:
    """TEMPORAL_ADDRESS, else the dev server that `threadwork dev` runs from this folder's data dir."""
    if settings.temporal_address:
        return settings.temporal_address
    return running_address(settings.data_dir / "temporal") or settings.temporal_target


async def client_for(settings: Settings) -> Client:
    try:
        return await connect(target_for(settings), settings.temporal_namespace)
    except Exception as err:
        raise RuntimeError(str(err)) from err


async def list_sessions(client: Client, include_closed: bool = False) -> list[dict[str, Any]]:
    query = "WorkflowType = 'ChatSessionWorkflow'"
    if not include_closed:
        query += " AND ExecutionStatus = 'Running'"
    rows = []
    async for wf in client.list_workflows(query):
        rows.append(
            {"session_id": wf.id, "status": wf.status.name.lower() if wf.status else "", "started_at": wf.start_time}
        )
    return rows


async def show(client: Client, session_id: str) -> dict[str, Any] | None:
    handle = client.get_workflow_handle(session_id)
    try:
        state = await handle.query(ChatSessionWorkflow.get_session_state)
    except RPCError as err:
        if err.status in (RPCStatusCode.NOT_FOUND, RPCStatusCode.INVALID_ARGUMENT):
            return None
        raise
    return {**state.model_dump(mode="json"), **await build_of(handle)}


async def build_of(handle: WorkflowHandle[Any, Any]) -> dict[str, Any]:
    """The Worker Deployment build the session's current run is on (None: unversioned)."""
    info = (await handle.describe()).raw_description.workflow_execution_info.versioning_info
    version = info.deployment_version
    return {
        "build": version.build_id or None,
        "deployment": version.deployment_name or None,
        "versioning": VersioningBehavior.Name(info.behavior).removeprefix("VERSIONING_BEHAVIOR_").lower()
        if version.build_id
        else None,
    }


async def end(client: Client, session_id: str) -> bool:
    handle = client.get_workflow_handle(session_id)
    try:
        desc = await handle.describe()
    except RPCError as err:
        if err.status == RPCStatusCode.NOT_FOUND:
            return False
        raise
    if desc.status != WorkflowExecutionStatus.RUNNING:
        return False
    await handle.execute_update(ChatSessionWorkflow.end_session, "command")
    return True
