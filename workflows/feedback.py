"""Feedback buttons on the bot's answers (Slack's thumbs up / down): the session records the rating.

A click arrives as the ``session.feedback`` action with ``positive`` or ``negative``; the
session keeps who rated which message (SessionState.feedback, one rating per person and
message) and thanks the clicker privately. Pure state: no activity, nothing to replay.
"""

from __future__ import annotations

from datetime import datetime

from workflows.contracts import FEEDBACK_KEPT, ActionEvent, ActionResult, Feedback, SessionState

FEEDBACK_ACTION = "session.feedback"
RATINGS = ("positive", "negative")
THANKS = "Thanks for the feedback."


def record_feedback(state: SessionState, event: ActionEvent, now: datetime) -> ActionResult:
    if event.value not in RATINGS:
        return ActionResult(ephemeral=f"I can't record a rating of {event.value!r}.")
    message_id = event.message_ref.message_id if event.message_ref else ""
    state.feedback = [f for f in state.feedback if (f.actor_id, f.message_id) != (event.actor.id, message_id)]
    state.feedback.append(
        Feedback(at=now, actor_id=event.actor.id, actor=event.actor.name, rating=event.value, message_id=message_id)  # type: ignore[arg-type]
    )
    del state.feedback[:-FEEDBACK_KEPT]
    return ActionResult(ephemeral=THANKS)
