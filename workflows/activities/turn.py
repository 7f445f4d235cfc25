"""One local activity per ordinary message: match triggers, write the reply, post it.

Three separate local activities cost three trips through the sandbox and three sets of
payloads per message (bench/: worker CPU 12 ms vs 6 ms per message). Posting is folded
in for platforms whose post is a local write (the web chat). A Slack or Teams post is
*tried* here once (``try_post``, the fast path of the built-in responder's replies, issue 12):
when it fails or takes too long, the workflow posts the reply through the normal activity
with the platform retry window, under the same idempotency key, so it still shows once.
"""

from __future__ import annotations

import asyncio
import logging

from pydantic import BaseModel, Field
from temporalio import activity

from workflows.activities.models import PostRequest, ReplyRequest
from workflows.activities.platform import PlatformActivities
from workflows.activities.replies import ReplyActivities
from workflows.activities.responder import command_of
from workflows.activities.triggering import TriggerActivities
from workflows.contracts import FileRef, MessageRef, Reply, WorkflowStart
from workflows.platform_port import PlatformError

log = logging.getLogger(__name__)
#: A Slack/Teams post tried in the turn's local activity gives up after this long; the
#: workflow then posts it durably (a 429 with a long Retry-After waits there, not here).
#: Long enough for slack_sdk to wait out a 429 or two with a short Retry-After here; under the
#: gateway's inline timeout (5 s), since the update is accepted when the turn's workflow task
#: completes, after this activity.
TRY_POST_SECONDS = 3.5


class TurnRequest(BaseModel):
    reply: ReplyRequest
    files: list[FileRef] = Field(default_factory=list)
    #: Set when the reply should be posted here too (local platforms); its reply is filled in.
    post: PostRequest | None = None
    #: The model answers with tools (workflows/tools/): only match the rules; no reply unless a command.
    model_decides: bool = False
    #: The model's replies stream (a streamed turn): answer only what the built-in responder answers.
    stream_model: bool = False
    #: A Slack/Teams post to try once here (its reply is filled in); on failure ``posted`` stays None
    #: and the workflow posts the reply durably under the same idempotency key.
    try_post: PostRequest | None = None


class TurnResult(BaseModel):
    #: A child to start: the workflow starts it, then asks for the reply separately.
    decision: WorkflowStart | None = None
    reply: Reply | None = None
    posted: MessageRef | None = None
    #: The platform refused ``try_post`` for good (its reason): recorded, not retried.
    refusal: str | None = None


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
        if req.stream_model and not self._replies.answers_builtin(req.reply):
            return TurnResult()  # the workflow streams the model's reply (stream_turn)
        reply = await self._replies.generate_reply(req.reply)
        if req.stream_model:
            # The built-in responder's reply is whole at once: shown in one post, no stream.
            try:
                return TurnResult(reply=reply, posted=await self._post_now(req, reply))
            except PlatformError as err:  # refused for good (a retryable refusal is retried durably)
                return TurnResult(reply=reply, refusal=str(err))
        if req.post is None or self._replies.uses_llm:
            # With a language model, a failed post must not ask the model again on retry:
            # the workflow posts the reply through its own activity.
            return TurnResult(reply=reply)
        posted = await self._platform.post_reply(req.post.model_copy(update={"reply": reply}))
        return TurnResult(reply=reply, posted=posted)

    async def _post_now(self, req: TurnRequest, reply: Reply) -> MessageRef | None:
        """The reply posted here: a local write for sure, a Slack/Teams post if it goes through at once."""
        if req.post is not None:
            return await self._platform.post_reply(req.post.model_copy(update={"reply": reply}))
        if req.try_post is None:
            return None
        post = req.try_post.model_copy(update={"reply": reply})
        try:
            return await asyncio.wait_for(self._platform.post_now(post), TRY_POST_SECONDS)
        except PlatformError as err:
            if not err.retryable:
                log.warning("posting to %s refused for good: %s", post.key.session_id(), err)
                raise
            reason = str(err)
        except TimeoutError:
            reason = f"no answer within {TRY_POST_SECONDS:g} s"
        log.warning("posting to %s at once failed, posting it durably: %s", post.key.session_id(), reason)
        return None
