"""Feedback buttons (thumbs up / down) under a streamed AI answer.

Slack's ``context_actions`` block with a ``feedback_buttons`` element. Each button's value is
a threadwork button value (adapters/slack/blocks.py) aimed at the session's ``session.feedback``
action, so a click travels the ordinary button path: the session records who rated which
message (SessionState.feedback) and the clicker is thanked privately.
"""

from __future__ import annotations

from typing import Any

from adapters.slack.blocks import encode_button_value
from workflows.contracts import Button, ConversationKey

FEEDBACK_ACTION = "session.feedback"
ACTION_ID = "threadwork_feedback"


def feedback_block(key: ConversationKey) -> dict[str, Any]:
    def value(rating: str) -> str:
        return encode_button_value(
            Button(label=rating, action_id=FEEDBACK_ACTION, value=rating, workflow_id=key.session_id())
        )

    return {
        "type": "context_actions",
        "elements": [
            {
                "type": "feedback_buttons",
                "action_id": ACTION_ID,
                "positive_button": {
                    "text": {"type": "plain_text", "text": "Good answer"},
                    "accessibility_label": "This answer was helpful",
                    "value": value("positive"),
                },
                "negative_button": {
                    "text": {"type": "plain_text", "text": "Bad answer"},
                    "accessibility_label": "This answer was not helpful",
                    "value": value("negative"),
                },
            }
        ],
    }
