"""A Stop button on a streamed reply, for Slack apps without the agent experience.

Agent apps get Slack's own Stop (``agent_session_stopped``, adapters/slack/agent_stop.py); other
apps had none. With THREADWORK_SLACK_STOP_BUTTON the stream carries an ``actions`` block (a
``blocks`` chunk of chat.startStream) whose button is an ordinary threadwork button aimed at the
session's ``session.stop`` action, so a click stops the running turn in the workflow like any
platform's Stop. The final message is set by chat.update without it.
"""

from __future__ import annotations

from typing import Any

from adapters.slack.blocks import encode_button_value
from workflows.contracts import Button, ConversationKey
from workflows.stream_contracts import STOP_ACTION

ACTION_ID = "threadwork_stop"


def stop_block(key: ConversationKey) -> dict[str, Any]:
    value = encode_button_value(Button(label="Stop", action_id=STOP_ACTION, workflow_id=key.session_id()))
    return {
        "type": "actions",
        "elements": [
            {
                "type": "button",
                "action_id": ACTION_ID,
                "text": {"type": "plain_text", "text": "Stop"},
                "style": "danger",
                "value": value,
            }
        ],
    }
