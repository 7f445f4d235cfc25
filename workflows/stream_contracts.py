"""Plain data of streamed turns and Stop (issue 13), shared by the session workflow, the
streaming turn activity, the dispatcher and every adapter's ReplyStream (adapters/base.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel

from workflows.contracts import Actor, MessageRef, Reply

#: A work step's state as a ReplyStream shows it (Slack task/plan chunks, Teams informative updates).
StepState = Literal["pending", "in_progress", "complete", "error"]

#: What a stopped reply ends with (after the text so far).
STOPPED_NOTE = "_(stopped)_"
#: A Stop button's action (Slack apps without the agent experience): the session stops its running turn.
STOP_ACTION = "session.stop"


class StopRequest(BaseModel):
    """The ``stop_turn`` update: who pressed Stop (any platform's stop control)."""

    actor: Actor
    #: The platform's id of the press (Slack event id, Teams activity id): the update id, so repeats dedupe.
    request_id: str = ""


class StopResult(BaseModel):
    """What ``stop_turn`` answers: whether a running turn was stopped, and if not, why."""

    stopped: bool
    detail: str = ""


class StreamedTurn(BaseModel):
    """What a streamed turn returns to the workflow: the final text only, never the chunks."""

    reply: Reply
    #: None: the platform refused while streaming; the workflow delivers ``reply`` (same idempotency key).
    posted: MessageRef | None = None
    #: With ``posted`` None: part of the reply may show under the turn's key, so delivering also updates it.
    partly_shown: bool = False
    #: With ``posted`` None: when the platform first refused (a late note counts from then).
    refused_at: datetime | None = None
    #: The platform refused for good (the channel is gone): nothing more to try, the session records it.
    refusal: str | None = None
    #: Set when Stop cancelled the turn: ``reply.text`` is the text shown so far (without the note).
    stopped: bool = False
    #: Stopped between two attempts (a worker died): the platform's message kept its text, unknown here.
    between_attempts: bool = False


class Redelivery(BaseModel):
    """A streamed reply the platform refused: the session posts it under the turn's own key."""

    key: str
    #: Part of it may show under that key already: the post is followed by an update.
    partly_shown: bool
    since: datetime | None = None
