"""Which incident owns a conversation: a tiny workflow whose id is derived from the channel.

An incident channel is created after the incident starts, so the incident's own id
cannot be derived from it. Each incident therefore starts ``IncidentLinkWorkflow`` with
the id ``incident-link:{platform}:{workspace}:{channel}`` and its own id in the memo;
anyone holding a conversation key (a session receiving ``incident note ...``, the Slack
adapter seeing a :pushpin: reaction) finds the incident with one ``describe`` call.
The link runs until the incident closes it.
"""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from workflows.contracts import ConversationKey

MEMO_KEY = "incident_workflow_id"


def link_id(key: ConversationKey) -> str:
    return f"incident-link:{key.platform}:{key.workspace}:{key.channel}"


@workflow.defn
class IncidentLinkWorkflow:
    @workflow.init
    def __init__(self, incident_workflow_id: str) -> None:
        self._closed = False

    @workflow.run
    async def run(self, incident_workflow_id: str) -> str:
        await workflow.wait_condition(lambda: self._closed)
        return incident_workflow_id

    @workflow.signal
    def close(self) -> None:
        self._closed = True
