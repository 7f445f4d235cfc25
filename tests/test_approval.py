"""The reusable approval step, hosted by a minimal workflow, clicked through the web chat API."""

from __future__ import annotations

import contextlib
import uuid

from temporalio.worker import Worker

from tests.support.approval_host import ApprovalHostWorkflow
from tests.support.helpers import eventually
from workflows.activities.platform import PlatformActivities
from workflows.approval import ApprovalRecord, ApprovalRequest
from workflows.contracts import ConversationKey

GENERAL = ConversationKey(platform="webchat", channel="general")


@contextlib.asynccontextmanager
async def host_worker(stack):
    platform = PlatformActivities(stack.platforms.registry)
    queue = f"approval-{uuid.uuid4().hex[:8]}"
    async with Worker(
        stack.client,
        task_queue=queue,
        workflows=[ApprovalHostWorkflow],
        activities=[platform.post_reply, platform.update_message],
    ):
        yield queue


async def start(stack, queue: str, **fields):
    req = ApprovalRequest(
        approval_id="rollback-1", question="Approve rollback of checkout to v1.4.2?", conversation=GENERAL, **fields
    )
    return await stack.client.start_workflow(
        ApprovalHostWorkflow.run, req, id=f"approval-host-{uuid.uuid4().hex[:8]}", task_queue=queue
    )


async def bot_texts(stack) -> list[str]:
    return [m["text"] for m in await stack.store.messages("general") if m["is_bot"]]


async def question_message(stack) -> dict:
    msgs = await eventually(lambda: stack.store.messages("general"), lambda ms: len(ms) >= 1, what="question posted")
    return msgs[0]


async def click(stack, message: dict, action_id: str, user: str) -> dict:
    resp = await stack.click(message, action_id, user, "rollback-1")
    assert resp.status_code == 202, resp.text
    return resp.json()


async def test_only_named_approver_decides_and_decision_is_posted(stack):
    async with host_worker(stack) as queue:
        handle = await start(stack, queue, approvers=["lead"], timeout_seconds=600)
        question = await question_message(stack)
        labels = [b["label"] for blk in question["blocks"] if blk["type"] == "buttons" for b in blk["buttons"]]
        assert labels == ["Approve", "Reject"]

        refused = await click(stack, question, "approval.approve", "mallory")
        assert "not authorized" in refused["ephemeral"]
        [record] = await handle.query(ApprovalHostWorkflow.get_records)
        assert record.outcome == "pending"
        assert [who for who, _ in record.refusals] == ["mallory"]
        assert (await stack.store.get_message(question["id"]))["blocks"] == question["blocks"]

        accepted = await click(stack, question, "approval.approve", "lead")
        assert accepted["ephemeral"] is None
        result: ApprovalRecord = await handle.result()
        assert result.outcome == "approved"
        assert result.decided_by.id == "lead"
        assert result.decided_at is not None
        updated = await stack.store.get_message(question["id"])
        assert "approved by lead" in updated["text"]
        assert not [b for b in updated["blocks"] if b["type"] == "buttons"]
        texts = await eventually(lambda: bot_texts(stack), lambda t: len(t) >= 2, what="decision posted")
        assert texts[1].startswith("Approved by lead at ")
        assert len(await stack.store.messages("general")) == 2  # question updated in place, one decision post

        # The buttons are gone: a late click on the old message is refused with a reason.
        late = await stack.click(question, "approval.reject", "lead", "rollback-1")
        assert late.status_code == 400 and "no button 'approval.reject'" in late.json()["error"]


async def test_timeout_escalates_then_expires(stack):
    async with host_worker(stack) as queue:
        handle = await start(
            stack, queue, timeout_seconds=1, escalate_to=["oncall-leads"], escalation_timeout_seconds=1
        )
        result: ApprovalRecord = await handle.result()
        assert result.outcome == "expired"
        assert result.escalated_at is not None and result.decided_by is None
        texts = await bot_texts(stack)
        assert texts[0].startswith("Approval needed: Approve rollback")
        assert "Escalating" in texts[1] and "oncall-leads" in texts[1] and "1 seconds" in texts[1]
        assert "expired" in texts[2]
        question = (await stack.store.messages("general"))[0]
        assert "expired without a decision" in question["text"]


async def test_decision_after_escalation_still_counts(stack):
    async with host_worker(stack) as queue:
        handle = await start(stack, queue, timeout_seconds=1, escalate_to=["U-LEAD"])
        await eventually(lambda: bot_texts(stack), lambda t: any("Escalating" in x for x in t), what="escalation")
        question = await question_message(stack)
        await click(stack, question, "approval.reject", "U-LEAD")
        result: ApprovalRecord = await handle.result()
        assert result.outcome == "rejected"
        assert result.decided_by.id == "U-LEAD"
        assert result.escalated_at is not None and result.escalated_at <= result.decided_at
        assert (await bot_texts(stack))[-1].startswith("Rejected by U-LEAD")
