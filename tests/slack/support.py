"""Helpers for Slack tests: signed requests to the real gateway, payload builders."""

from __future__ import annotations

import itertools
import json
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import httpx
from slack_sdk.signature import SignatureVerifier

from tests.slack.fake_slack import BOT_USER, TEAM, FakeSlack, next_ts

SIGNING_SECRET = "test-signing-secret-8f1c2d"
_seq = itertools.count(1)


def new_ts() -> str:
    """A fresh, unique Slack-style message ts, later than every message so far (the fake's posts too)."""
    return next_ts()


def signed_headers(
    body: str, *, secret: str = SIGNING_SECRET, timestamp: int | None = None, content_type: str
) -> dict[str, str]:
    ts = str(timestamp if timestamp is not None else int(time.time()))
    signature = SignatureVerifier(secret).generate_signature(timestamp=ts, body=body)
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": signature, "Content-Type": content_type}


@dataclass
class SlackSim:
    """Plays Slack's side of the Events API, slash commands and interactivity against the gateway."""

    http: httpx.AsyncClient
    fake: FakeSlack
    team: str = TEAM

    async def send(self, body: str, content_type: str, *, retry_num: int | None = None, **sign: Any) -> httpx.Response:
        headers = signed_headers(body, content_type=content_type, **sign)
        if retry_num is not None:
            headers["X-Slack-Retry-Num"] = str(retry_num)
            headers["X-Slack-Retry-Reason"] = "http_timeout"
        return await self.http.post("/slack/events", content=body.encode(), headers=headers)

    def envelope(self, event: dict[str, Any], event_id: str | None = None) -> str:
        return json.dumps(
            {
                "token": "legacy",
                "team_id": self.team,
                "api_app_id": "A1",
                "type": "event_callback",
                "event_id": event_id or f"Ev{next(_seq):08d}",
                "event_time": int(time.time()),
                "authorizations": [{"team_id": self.team, "user_id": BOT_USER, "is_bot": True}],
                "event": event,
            }
        )

    async def event(
        self, event: dict[str, Any], *, event_id: str | None = None, retry_num: int | None = None, **sign: Any
    ) -> httpx.Response:
        """Send one event; like Slack, the fake stores the message first (conversations.replies sees it)."""
        self.fake.record(event)
        return await self.send(self.envelope(event, event_id), "application/json", retry_num=retry_num, **sign)

    @staticmethod
    def message(
        channel: str,
        user: str,
        text: str,
        *,
        ts: str | None = None,
        thread_ts: str | None = None,
        kind: str = "message",
        **extra: Any,
    ) -> dict[str, Any]:
        event = {
            "type": kind,
            "channel": channel,
            "user": user,
            "text": text,
            "ts": ts or new_ts(),
            "event_ts": ts,
            **extra,
        }
        if kind == "message":
            event["channel_type"] = "im" if channel.startswith("D") else "channel"
        if thread_ts:
            event["thread_ts"] = thread_ts
        return event

    async def mention(self, channel: str, user: str, text: str, **kw: Any) -> dict[str, Any]:
        """A top-level mention, delivered like Slack does: as app_mention and as message."""
        ts = kw.pop("ts", None) or new_ts()
        event = self.message(channel, user, f"<@{BOT_USER}> {text}", ts=ts, kind="app_mention", **kw)
        assert (await self.event(event)).status_code == 200
        twin = self.message(channel, user, f"<@{BOT_USER}> {text}", ts=ts, **kw)
        assert (await self.event(twin)).status_code == 200
        return event

    async def command(self, command: str, text: str, *, channel: str = "C1", user: str = "UALICE") -> httpx.Response:
        body = urlencode(
            {
                "token": "legacy",
                "team_id": self.team,
                "team_domain": "test",
                "channel_id": channel,
                "channel_name": "general",
                "user_id": user,
                "user_name": user.lower(),
                "command": command,
                "text": text,
                "api_app_id": "A1",
                "response_url": f"{self.fake.url}/response/{next(_seq)}",
                "trigger_id": f"trig-{next(_seq)}",
            }
        )
        return await self.send(body, "application/x-www-form-urlencoded")

    async def click(self, message: dict[str, Any], action_index: int = 0, *, user: str = "UALICE") -> httpx.Response:
        """Click a button of a message the bot posted (as recorded by the fake Slack)."""
        buttons = [el for b in message["blocks"] if b["type"] == "actions" for el in b["elements"]]
        button = buttons[action_index]
        payload = {
            "type": "block_actions",
            "team": {"id": self.team, "domain": "test"},
            "user": {"id": user, "username": user.lower(), "team_id": self.team},
            "api_app_id": "A1",
            "token": "legacy",
            "container": {
                "type": "message",
                "message_ts": message["ts"],
                "channel_id": message["channel"],
                "is_ephemeral": False,
                "thread_ts": message.get("thread_ts"),
            },
            "trigger_id": f"trig-{next(_seq)}",
            "channel": {"id": message["channel"], "name": "general"},
            "message": {k: message[k] for k in ("ts", "text", "blocks", "thread_ts", "user", "bot_id") if k in message}
            | {"type": "message"},
            "response_url": f"{self.fake.url}/response/{next(_seq)}",
            "actions": [
                {
                    "type": "button",
                    "action_id": button["action_id"],
                    "block_id": "b1",
                    "text": button["text"],
                    "value": button["value"],
                    "action_ts": f"{time.time():.6f}",
                }
            ],
        }
        return await self.send(urlencode({"payload": json.dumps(payload)}), "application/x-www-form-urlencoded")

    async def agent_stop(
        self, channel: str, thread_ts: str, user: str = "UALICE", *, event_id: str | None = None
    ) -> httpx.Response:
        """The user presses Slack's Stop button: Slack ends the bot's streams there, then sends the signed event."""
        stopped = self.fake.stop_streams(channel, thread_ts)
        event = {
            "type": "agent_session_stopped",
            "channel": channel,
            "thread_ts": thread_ts,
            "user": user,
            "streaming_message_ts": stopped,
            "event_ts": new_ts(),
        }
        return await self.event(event, event_id=event_id)

    async def click_feedback(
        self, message: dict[str, Any], positive: bool = True, *, user: str = "UALICE"
    ) -> httpx.Response:
        """Click the thumbs up (or down) of the feedback buttons under a bot message."""
        [element] = [
            el
            for b in message["blocks"]
            if b["type"] == "context_actions"
            for el in b["elements"]
            if el["type"] == "feedback_buttons"
        ]
        button = element["positive_button" if positive else "negative_button"]
        payload = {
            "type": "block_actions",
            "team": {"id": self.team, "domain": "test"},
            "user": {"id": user, "username": user.lower(), "team_id": self.team},
            "api_app_id": "A1",
            "token": "legacy",
            "container": {
                "type": "message",
                "message_ts": message["ts"],
                "channel_id": message["channel"],
                "is_ephemeral": False,
                "thread_ts": message.get("thread_ts"),
            },
            "trigger_id": f"trig-{next(_seq)}",
            "channel": {"id": message["channel"], "name": "general"},
            "message": {k: message[k] for k in ("ts", "text", "blocks", "thread_ts", "user", "bot_id") if k in message}
            | {"type": "message"},
            "response_url": f"{self.fake.url}/response/{next(_seq)}",
            "actions": [
                {
                    "type": "feedback_buttons",
                    "action_id": element["action_id"],
                    "block_id": "fb",
                    "value": button["value"],
                    "action_ts": f"{time.time():.6f}",
                }
            ],
        }
        return await self.send(urlencode({"payload": json.dumps(payload)}), "application/x-www-form-urlencoded")
