"""The deploy-approval example as a ChildSpec: what the registry entry (custom_workflows.default.yaml) points at."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from workflows.childspec import ChildSpec, WorkerResources, text_args
from workflows.examples.deploy_activities import ACTIVITIES
from workflows.examples.deploy_approval import DeployApprovalWorkflow


def deploy_activities(resources: WorkerResources) -> Sequence[Callable[..., Any]]:
    return list(ACTIVITIES)


DEPLOY_APPROVAL = ChildSpec(
    workflow=DeployApprovalWorkflow,
    kind="deploy-approval",
    display_name="deploy approval",
    description="Ask for an approval before a deploy goes ahead, then record the decision.",
    start_args=text_args,
    activities=deploy_activities,
)
