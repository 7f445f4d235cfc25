"""Worker Versioning for operators: which builds serve sessions, and which one is current.

Workers of one Worker Deployment (THREADWORK_DEPLOYMENT_NAME) each serve one build
(THREADWORK_BUILD_ID). New sessions start on the *current* build (or, while ramping, on the
ramping one for a share of them); a running session stays on the build that started it until
its next continue-as-new (workflows/chat_session.py). docs/deployment.md tells the procedure.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from temporalio.api.enums.v1 import RoutingConfigUpdateState, WorkerDeploymentVersionStatus
from temporalio.api.workflowservice.v1 import (
    DescribeWorkerDeploymentRequest,
    DescribeWorkerDeploymentResponse,
    SetWorkerDeploymentCurrentVersionRequest,
    SetWorkerDeploymentRampingVersionRequest,
)
from temporalio.client import Client
from temporalio.common import WorkerDeploymentVersion
from temporalio.service import RPCError, RPCStatusCode

from bots.errors import StartupError
from workflows.chat_session import ChatSessionWorkflow

SESSIONS = "WorkflowType = 'ChatSessionWorkflow' AND ExecutionStatus = 'Running'"
#: How the status table names sessions that run on no build (started by unversioned workers).
UNVERSIONED = "(unversioned)"


class DeploymentError(StartupError):
    """An operator mistake about deployments; the message is the one line shown."""


@dataclass
class BuildRow:
    build_id: str
    #: current | ramping | draining | drained | inactive
    status: str
    ramp_percent: float | None
    sessions: int


async def describe(client: Client, name: str) -> DescribeWorkerDeploymentResponse:
    try:
        return await client.workflow_service.describe_worker_deployment(
            DescribeWorkerDeploymentRequest(namespace=client.namespace, deployment_name=name)
        )
    except RPCError as err:
        if err.status == RPCStatusCode.NOT_FOUND:
            raise DeploymentError(
                f"no Worker Deployment {name!r} in namespace {client.namespace!r}: no versioned worker of it has "
                "polled yet (`threadwork worker` runs versioned; `threadwork dev` only when THREADWORK_DEPLOYMENT_NAME is set)"
            ) from err
        raise


def _status_name(status: WorkerDeploymentVersionStatus.ValueType) -> str:
    return WorkerDeploymentVersionStatus.Name(status).removeprefix("WORKER_DEPLOYMENT_VERSION_STATUS_").lower()


async def _count(client: Client, task_queue: str, condition: str) -> int:
    return (await client.count_workflows(f"{SESSIONS} AND TaskQueue = '{task_queue}' AND {condition}")).count


async def status(client: Client, name: str, task_queue: str) -> list[BuildRow]:
    """Every build of the deployment, newest first, with the running sessions (on
    ``task_queue``) on each; sessions on no build (unversioned workers) last."""
    info = (await describe(client, name)).worker_deployment_info
    routing = info.routing_config
    rows = []
    summaries = sorted(info.version_summaries, key=lambda s: s.create_time.ToDatetime(), reverse=True)
    for summary in summaries:
        build = summary.deployment_version.build_id
        ramp = routing.ramping_version_percentage if routing.ramping_deployment_version.build_id == build else None
        # Search attribute values join deployment and build with ':' (the API's strings use '.').
        sessions = await _count(client, task_queue, f"TemporalWorkerDeploymentVersion = '{name}:{build}'")
        rows.append(BuildRow(build, _status_name(summary.status), ramp, sessions))
    unversioned = await _count(client, task_queue, "TemporalWorkerDeploymentVersion IS NULL")
    if unversioned:
        rows.append(BuildRow(UNVERSIONED, "-", None, unversioned))
    return rows


def format_status(name: str, rows: list[BuildRow]) -> str:
    lines = [f"deployment {name}", f"{'BUILD':<24} {'STATUS':<10} {'RAMP':>5} {'SESSIONS':>8}"]
    for row in rows:
        ramp = f"{row.ramp_percent:g}%" if row.ramp_percent is not None else ""
        lines.append(f"{row.build_id:<24} {row.status:<10} {ramp:>5} {row.sessions:>8}")
    return "\n".join(lines)


async def promote(
    client: Client, name: str, build_id: str, ramp_percent: float | None = None, timeout: float = 30
) -> str:
    """Make ``build_id`` current (or ramp it to ``ramp_percent`` of new sessions); wait until
    the task queues route by the new rule. Returns what was done, for the operator."""
    if ramp_percent is not None and not 0 <= ramp_percent <= 100:
        raise DeploymentError(f"--ramp {ramp_percent:g}: give a percentage from 0 to 100")
    desc = await describe(client, name)
    known = [s.deployment_version.build_id for s in desc.worker_deployment_info.version_summaries]
    if build_id not in known:
        raise DeploymentError(
            f"deployment {name!r} has no build {build_id!r} (known: {', '.join(known) or 'none'}); "
            f"start its workers first (THREADWORK_BUILD_ID={build_id} threadwork worker)"
        )
    current = desc.worker_deployment_info.routing_config.current_deployment_version.build_id
    try:
        if ramp_percent is None and current == build_id:
            return f"{build_id} is already the current build of {name}"
        if ramp_percent is None:
            await client.workflow_service.set_worker_deployment_current_version(
                SetWorkerDeploymentCurrentVersionRequest(
                    namespace=client.namespace,
                    deployment_name=name,
                    build_id=build_id,
                    conflict_token=desc.conflict_token,
                    identity=client.identity,
                )
            )
            done = f"{build_id} is now the current build of {name}"
        else:
            await client.workflow_service.set_worker_deployment_ramping_version(
                SetWorkerDeploymentRampingVersionRequest(
                    namespace=client.namespace,
                    deployment_name=name,
                    build_id=build_id,
                    percentage=ramp_percent,
                    conflict_token=desc.conflict_token,
                    identity=client.identity,
                )
            )
            done = f"{build_id} now takes {ramp_percent:g}% of new sessions of {name}"
    except RPCError as err:
        if err.status in (RPCStatusCode.FAILED_PRECONDITION, RPCStatusCode.INVALID_ARGUMENT, RPCStatusCode.ABORTED):
            raise DeploymentError(f"the server refused to promote {build_id}: {err.message}") from err
        raise
    await wait_routed(client, name, timeout)
    return done


async def move_idle(client: Client, name: str, task_queue: str, build_id: str) -> int:
    """Wake every running session of ``task_queue`` on another build of the deployment; each
    continues-as-new onto the current build when no turn is running (workflows/chat_session.py).
    Returns how many were woken."""
    query = (
        f"{SESSIONS} AND TaskQueue = '{task_queue}' AND TemporalWorkerDeployment = '{name}' "
        f"AND TemporalWorkerDeploymentVersion != '{name}:{build_id}'"
    )
    woken = 0
    async for wf in client.list_workflows(query):
        try:
            await client.get_workflow_handle(wf.id, run_id=wf.run_id).signal(ChatSessionWorkflow.check_build)
            woken += 1
        except RPCError as err:
            if err.status != RPCStatusCode.NOT_FOUND:  # it ended or moved meanwhile
                raise
    return woken


async def wait_routed(client: Client, name: str, timeout: float = 30) -> None:
    """Routing changes reach the task queues asynchronously; a session that continues-as-new
    before then would start on the build it is leaving."""
    deadline = asyncio.get_running_loop().time() + timeout
    while (await describe(client, name)).worker_deployment_info.routing_config_update_state != (
        RoutingConfigUpdateState.ROUTING_CONFIG_UPDATE_STATE_COMPLETED
    ):
        if asyncio.get_running_loop().time() > deadline:
            raise DeploymentError(
                f"the routing change of {name} did not reach its task queues within {timeout:.0f}s; check `threadwork deploy status`"
            )
        await asyncio.sleep(0.2)


async def adopt(client: Client, version: WorkerDeploymentVersion, *, force: bool, timeout: float = 30) -> str:
    """Run by a versioned worker after it started polling: make its build current when the
    deployment has none yet (its first deploy, or the move from unversioned workers), or
    always with ``force`` (a versioned `threadwork dev`). Returns a line for the log."""
    name, build = version.deployment_name, version.build_id
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        try:
            desc = await describe(client, name)
        except DeploymentError:
            desc = None  # our poller has not registered the deployment yet
        if desc is not None:
            current = desc.worker_deployment_info.routing_config.current_deployment_version.build_id
            if current == build:
                return f"serving build {build}, the current build of {name}"
            if current and not force:
                return (
                    f"serving build {build} of {name}; new sessions go to {current} until "
                    f"`threadwork deploy promote {build}`"
                )
            if build in (s.deployment_version.build_id for s in desc.worker_deployment_info.version_summaries):
                remaining = max(deadline - asyncio.get_running_loop().time(), 1)
                await promote(client, name, build, timeout=remaining)
                return f"serving build {build}, made current of {name}" + (f" (was {current})" if current else "")
        if asyncio.get_running_loop().time() > deadline:
            raise DeploymentError(f"build {build} did not appear in Worker Deployment {name} within {timeout:.0f}s")
        await asyncio.sleep(0.2)
