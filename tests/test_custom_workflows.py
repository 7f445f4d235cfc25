"""Custom workflows: the registry, and the deploy-approval example started by command, phrase and webhook."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from aiohttp import web

from tests.support.events import AUTH, TOKEN, channel_texts, wait_until
from tests.support.httpserver import local_server
from tests.support.stack import running_stack
from workflows.chat_session import ChatSessionWorkflow
from workflows.contracts import Actor, TriggerRequest
from workflows.examples.deploy_approval import DeployApprovalWorkflow
from workflows.registry import RegistryError, list_workflows, load_registry


def test_the_example_is_listed():
    [listing] = list_workflows()
    assert listing.name == "deploy-approval"
    assert listing.workflow_type == "DeployApprovalWorkflow"
    assert listing.webhook == "deploy" and listing.webhook_path == "/events/webhook/deploy"
    assert listing.triggers and listing.description


@pytest.mark.parametrize(
    ("entry", "error"),
    [
        ("{name: x, entry_point: 'no.such.module:Thing'}", "cannot load 'no.such.module:Thing'"),
        ("{name: x, entry_point: 'workflows.contracts:Reply'}", "is not a @workflow.defn class"),
        (
            "{name: x, entry_point: 'workflows.notice:EventNoticeWorkflow', triggers: ['(unclosed']}",
            "bad trigger pattern",
        ),
        ("{name: 'Bad Name', entry_point: 'workflows.notice:EventNoticeWorkflow'}", "name"),
    ],
)
def test_invalid_registry_entries_are_refused_with_a_reason(tmp_path: Path, entry: str, error: str):
    path = tmp_path / "custom.yaml"
    path.write_text(f"workflows:\n  - {entry}\n")
    with pytest.raises(RegistryError) as err:
        load_registry(path)
    assert error in str(err.value)


async def _approval_message(stack, channel: str, thread: str | None = None) -> dict:
    async def find():
        for m in await stack.store.messages(channel, thread):
            if (
                m["is_bot"]
                and m["text"].startswith("Approval needed")
                and any(b["type"] == "buttons" for b in m["blocks"])
            ):
                return m
        return None

    return await wait_until(find, "the approval question")


async def _click(stack, message: dict, user: str, action: str = "approval.approve") -> dict:
    resp = await stack.click(message, action, user, "deploy")
    assert resp.status_code == 202, resp.text
    return resp.json()


async def test_started_by_command_requester_cannot_approve_someone_else_can(stack):
    first = await stack.say("hello", user="alice")
    await stack.wait_bot_messages(first["thread"], 1)
    session = stack.client.get_workflow_handle(first["session_id"])
    await session.signal(
        ChatSessionWorkflow.trigger_workflow,
        TriggerRequest(
            workflow_type="deploy-approval",
            title="deploy api",
            actor=Actor(id="alice", name="alice"),
            args={"text": "api v1.4 to production"},
            request_id="cmd-1",
        ),
    )
    question = await _approval_message(stack, "general", first["thread"])
    assert "Deploy api v1.4 to production?" in question["text"]
    refused = await _click(stack, question, "alice")
    assert "not authorized" in refused["ephemeral"]
    assert (await _click(stack, question, "bob"))["ephemeral"] is None
    wid = f"{first['session_id']}/deploy-approval/1"
    result = await stack.client.get_workflow_handle_for(DeployApprovalWorkflow.run, wid).result()
    assert result.outcome == "approved" and result.approval.decided_by.id == "bob"
    state = await stack.state(first["session_id"])
    [started] = state["triggered_workflows"]
    assert started["workflow_type"] == "DeployApprovalWorkflow" and started["status"] == "approved"


async def test_started_by_trigger_phrase(stack):
    sent = await stack.say("please deploy search v2.0 to staging", user="dana")
    question = await _approval_message(stack, "general", sent["thread"])
    assert "Deploy search v2.0 to staging?" in question["text"]
    await _click(stack, question, "erin", "approval.reject")
    wid = f"{sent['session_id']}/deploy-approval/1"
    result = await stack.client.get_workflow_handle_for(DeployApprovalWorkflow.run, wid).result()
    assert result.outcome == "rejected" and result.request.environment == "staging"


async def test_started_by_webhook_once_and_tells_the_pipeline(client, tmp_path):
    def pipeline(app: web.Application, _recorded: list) -> None:
        async def callback(request: web.Request) -> web.Response:
            return web.json_response({"ok": True})

        app.router.add_post("/deploys/callback", callback)

    async with local_server(pipeline) as ci, running_stack(client, tmp_path, events_token=TOKEN) as stack:
        payload = {
            "service": "billing",
            "version": "v3.1",
            "environment": "production",
            "requested_by": "ci-bot",
            "callback_url": f"{ci.base_url}/deploys/callback",
        }
        headers = {**AUTH, "Idempotency-Key": "pipeline-run-981"}
        first = await stack.http.post("/events/webhook/deploy", json=payload, headers=headers)
        again = await stack.http.post("/events/webhook/deploy", json=payload, headers=headers)
        wid = "webhook:deploy-approval:pipeline-run-981"
        assert first.status_code == 202 and first.json()["accepted"] == [wid] and again.status_code == 202

        question = await _approval_message(stack, "documents")
        assert "Deploy billing v3.1 to production?" in question["text"]
        await _click(stack, question, "carol")
        result = await client.get_workflow_handle_for(DeployApprovalWorkflow.run, wid).result()
        assert result.outcome == "approved" and result.pipeline_notified
        [call] = [r for r in ci.requests if r["path"] == "/deploys/callback"]
        told = json.loads(call["body"])
        assert told["outcome"] == "approved" and told["decided_by"] == "carol" and told["deploy_id"] == wid
        questions = [t for t in await channel_texts(stack) if t.startswith("Approval needed")]
        assert len(questions) == 1  # the second delivery started nothing

        unknown = await stack.http.post("/events/webhook/nope", json={}, headers=AUTH)
        assert unknown.status_code == 404 and "(registered: deploy)" in unknown.json()["error"]
        not_object = await stack.http.post("/events/webhook/deploy", json=[1, 2], headers=AUTH)
        assert not_object.status_code == 400 and "JSON object" in not_object.json()["error"]
        no_token = await stack.http.post("/events/webhook/deploy", json=payload)
        assert no_token.status_code == 401
