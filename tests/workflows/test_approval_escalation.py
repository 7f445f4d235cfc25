"""Approvals wait durably: past their timeout they escalate, and (when told to) expire after the escalation window."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

from temporalio.client import WorkflowHandle
from temporalio.worker import Worker

from tests.support.approval_host import ApprovalHostWorkflow
from tests.workflows.inputs import (
    APPROVE,
    REJECT,
    IncidentAction,
    IncidentWorkflow,
    actor,
    approval_request,
    click,
    thread_key,
)
from tests.workflows.world import World, minutes
from workflows.activities.platform import PlatformActivities
from workflows.approval import ApprovalRecord


@contextlib.asynccontextmanager
async def approval_host(world: World, **fields: Any) -> AsyncIterator[WorkflowHandle[Any, ApprovalRecord]]:
    """The approval step hosted by a minimal workflow (what any workflow would write), on its own worker."""
    platform = PlatformActivities(world.registry)
    queue = f"{world.task_queue}-approval"
    async with Worker(
        world.client,
        task_queue=queue,
        workflows=[ApprovalHostWorkflow],
        activities=[platform.post_reply, platform.update_message],
    ):
        yield await world.client.start_workflow(
            ApprovalHostWorkflow.run,
            approval_request(thread_key(), **fields),
            id=f"approval-host-{uuid.uuid4().hex[:8]}",
            task_queue=queue,
        )


async def test_no_decision_escalates_after_the_timeout_then_expires(world: World) -> None:
    async with approval_host(
        world, timeout_seconds=900, escalate_to=["oncall-leads"], escalation_timeout_seconds=600
    ) as handle:
        record = await handle.result()  # time skips through both timers

    assert record.outcome == "expired" and record.decided_by is None
    assert record.escalated_at is not None and record.decided_at is not None
    assert minutes(record.escalated_at - record.requested_at) == 15
    assert minutes(record.decided_at - record.requested_at) == 25
    question, escalation, expired = world.platform.posts
    assert question.text == "Approval needed: Approve rollback of checkout to v1.4.2? (waiting for a decision)"
    assert escalation.text == (
        'Escalating: no decision on "Approve rollback of checkout to v1.4.2?" after 15 minutes. '
        "oncall-leads: please approve or reject."
    )
    assert expired.text == 'No decision on "Approve rollback of checkout to v1.4.2?": the approval expired.'
    # The question is updated in place: marked escalated, then expired and without buttons.
    assert [u.ref for u in world.platform.updates] == [question.ref, question.ref]
    assert [
        u.reply.text.removeprefix(question.text[: -len("(waiting for a decision)")]) for u in world.platform.updates
    ] == [
        "(waiting for a decision (escalated))",
        "(expired without a decision)",
    ]
    assert not [b for b in world.platform.updates[-1].reply.blocks if b.type == "buttons"]


async def test_without_an_escalation_window_it_waits_for_a_decision_after_escalating(world: World) -> None:
    async with approval_host(world, timeout_seconds=900, escalate_to=["U-LEAD"]) as handle:
        # The question first: the week skipped below starts after the request (a loaded host may run it late).
        await world.platform.wait_for(lambda: world.platform.posts_saying("Approval needed"), "the question")
        await world.skip(timedelta(days=7))
        await world.platform.wait_for(lambda: world.platform.posts_saying("Escalating"), "the escalation")
        [pending] = await handle.query(ApprovalHostWorkflow.get_records)
        assert pending.outcome == "pending"

        await handle.execute_update(
            ApprovalHostWorkflow.handle_action, click(thread_key(), actor("U-LEAD"), REJECT, "rollback-1")
        )
        record = await handle.result()

    assert record.outcome == "rejected" and record.decided_by is not None and record.decided_by.id == "U-LEAD"
    assert record.escalated_at is not None and record.decided_at is not None
    assert minutes(record.escalated_at - record.requested_at) == 15
    assert record.decided_at - record.requested_at >= timedelta(days=7)
    assert world.platform.texts()[-1].startswith("Rejected by U-lead at ")


async def test_an_incident_approval_escalates_to_the_responders_in_the_incident_channel(world: World) -> None:
    alice, bob = actor("alice"), actor("bob")
    handle = await world.start_incident(
        thread_key(), "checkout is down", by=alice, responders=["bob"], approval_timeout_seconds=300
    )
    await world.platform.wait_for(lambda: world.platform.channels, "the incident channel")
    channel = world.platform.channels[0].created.key()

    await world.incident_click(handle, alice, IncidentAction.REQUEST_APPROVAL, "Roll back checkout?")
    await world.skip(timedelta(minutes=6))
    [escalation] = await world.platform.wait_for(lambda: world.platform.posts_saying("Escalating"), "the escalation")
    refused = await world.incident_click(handle, actor("mallory"), APPROVE, "approval-1")
    approved = await world.incident_click(handle, bob, APPROVE, "approval-1")
    state = await handle.query(IncidentWorkflow.get_incident_state)

    assert escalation.key == channel
    assert (
        escalation.text
        == 'Escalating: no decision on "Roll back checkout?" after 5 minutes. bob: please approve or reject.'
    )
    assert refused.ephemeral is not None and "not authorized" in refused.ephemeral
    assert approved.ephemeral is None
    [record] = state.approvals
    assert record.outcome == "approved" and record.decided_by == bob
    assert record.escalated_at is not None and minutes(record.escalated_at - record.requested_at) == 5
    assert [e.text for e in state.timeline if e.kind == "approval"] == [
        "approval requested: Roll back checkout?",
        "approval escalated: Roll back checkout?",
        "approved: Roll back checkout?",
    ]
