"""One local activity per ordinary message: match triggers, write the reply, post it.

Three separate local activities cost three trips through the sandbox and three sets of
payloads per message (bench/: worker CPU 12 ms vs 6 ms per message). Posting is folded
in only for platforms whose post is a local write (the web chat); Slack and Teams posts
stay normal activities with their own retry policy.
"""

from __future__ import annotations

from pydantic import BaseModel, Field
from temporalio import activity

from workflows.activities.models import PostRequest, ReplyRequest
from workflows.activities.platform import PlatformActivities
from workflows.activities.replies import ReplyActivities
from workflows.activities.responder import command_of
from workflows.activities.triggering import TriggerActivities
from workflows.contracts import FileRef, MessageRef, Reply, WorkflowStart


class TurnRequest(BaseModel):
    reply: ReplyRequest
    files: list[FileRef] = Field(default_factory=list)
    #: Set when the reply should be posted here too (local platforms); its reply is filled in.
    post: PostRequest | None = None
    #: The model answers with tools (workflows/tools/): only match the rules; no reply unless a command.
    model_decides: bool = False


class TurnResult(BaseModel):
    #: A child to start: the workflow starts it, then asks for the reply separately.
    decision: WorkflowStart | None = None
    reply: Reply | None = None
    posted: MessageRef | None = None


class TurnActivities:
    def __init__(self, trigger: TriggerActivities, replies: ReplyActivities, platform: PlatformActivities) -> None:
        self._trigger = trigger
        self._replies = replies
        self._platform = platform

    @activity.defn
    async def take_turn(self, req: TurnRequest) -> TurnResult:
        # A rules file broken while running keeps its last good rules (TriggerActivities).
        decision = await self._trigger.match_trigger_now(req.reply.text, req.files)
        if decision is not None:
            return TurnResult(decision=decision)
        if req.model_decides and not command_of(req.reply.text):
            return TurnResult()  # the workflow runs the model's turn (tool calls are its to run)
        reply = await self._replies.generate_reply(req.reply)
        if req.post is None or self._replies.uses_llm:
            # With a language model, a failed post must not ask the model again on retry:
            # the workflow posts the reply through its own activity.
            return TurnResult(reply=reply)
        posted = await self._platform.post_reply(req.post.model_copy(update={"reply": reply}))
        return TurnResult(reply=reply, posted=posted)
