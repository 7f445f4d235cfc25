"""The Slack app manifest (``threadwork manifest slack``): what a workspace admin installs.

manifest/slack-app.yaml, manifest/slack-app.socket-mode.yaml and manifest/slack-app.agent.yaml
(``--agent``) in the repository are this rendering for an example URL; a test keeps them in
step with this module.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import yaml

BOT_SCOPES = [
    "app_mentions:read",
    "channels:history",
    "groups:history",
    "im:history",
    "mpim:history",
    "chat:write",
    "commands",
    "users:read",
    "usergroups:read",
    "channels:manage",
    "channels:join",
    "channels:read",
    "groups:read",
    "im:read",
    "pins:write",
    "reactions:read",
    "files:read",
]
BOT_EVENTS = ["app_mention", "message.channels", "message.groups", "message.im", "message.mpim", "reaction_added"]
COMMANDS = [
    ("/threadwork", "threadwork: help, status, end, workflows, run", "help | status | end | workflows | run <name>"),
    ("/incident", "Declare an incident and start incident response", "<title>"),
]
EXAMPLE_URL = "https://threadwork.example.com"

#: ``--agent``: Slack's agent messaging experience (agent view, agent sessions with a native Stop button).
#: Declaring an app as an agent adds ``assistant:write``; ``agent_session_stopped`` is the Stop button's event.
AGENT_SCOPES = ["assistant:write"]
AGENT_EVENTS = ["agent_session_stopped"]
AGENT_DESCRIPTION = (
    "threadwork answers in threads and DMs, streams its replies, shows what it is working on, "
    "and starts incident response or document processing when asked."
)
AGENT_PROMPTS = [
    {"title": "What can you do?", "message": "help"},
    {"title": "Session status", "message": "status"},
    {"title": "Declare an incident", "message": "we have an incident: "},
]


def public_base_url(url: str) -> str:
    """``url`` as the gateway's public base: Slack only calls https URLs with a host."""
    parts = urlsplit(url.strip())
    if parts.scheme != "https" or not parts.hostname:
        raise ValueError(f"--url must be the gateway's public https URL, like {EXAMPLE_URL}, not {url!r}")
    if parts.query or parts.fragment:
        raise ValueError(f"--url must not carry a query or fragment: {url!r}")
    return url.strip().rstrip("/")


def manifest(url: str | None = None, socket_mode: bool = False, agent: bool = False) -> dict[str, Any]:
    """The manifest as data. ``url`` is the gateway's public base URL (not needed for Socket Mode).

    ``agent`` declares the app an agent (``features.agent_view``): Slack then shows agent sessions
    whose status follows the session workflow, and a Stop button (docs/assistant-slack.md).
    """
    if not socket_mode and not url:
        raise ValueError("a request URL is needed unless Socket Mode is used")
    base = public_base_url(url) if url else None
    events_url = f"{base}/slack/events" if base else None
    commands = []
    for command, description, hint in COMMANDS:
        entry: dict[str, Any] = {
            "command": command,
            "description": description,
            "usage_hint": hint,
            "should_escape": False,
        }
        if not socket_mode:
            entry["url"] = events_url
        commands.append(entry)
    event_subscriptions: dict[str, Any] = {"bot_events": list(BOT_EVENTS) + (list(AGENT_EVENTS) if agent else [])}
    interactivity: dict[str, Any] = {"is_enabled": True}
    if not socket_mode:
        event_subscriptions = {"request_url": events_url, **event_subscriptions}
        interactivity["request_url"] = events_url
    oauth: dict[str, Any] = {"scopes": {"bot": list(BOT_SCOPES) + (list(AGENT_SCOPES) if agent else [])}}
    if base:
        oauth = {"redirect_urls": [f"{base}/slack/oauth_redirect"], **oauth}
    features: dict[str, Any] = {
        "app_home": {"messages_tab_enabled": True, "messages_tab_read_only_enabled": False},
        "bot_user": {"display_name": "threadwork", "always_online": True},
        "slash_commands": commands,
    }
    if agent:
        features["agent_view"] = {
            "agent_description": AGENT_DESCRIPTION,
            "suggested_prompts": [dict(p) for p in AGENT_PROMPTS],
        }
    return {
        "display_information": {
            "name": "threadwork",
            "description": "Durable chat sessions: every thread is a Temporal workflow.",
            "background_color": "#2c2d30",
        },
        "features": features,
        "oauth_config": oauth,
        "settings": {
            "event_subscriptions": event_subscriptions,
            "interactivity": interactivity,
            "org_deploy_enabled": False,
            "socket_mode_enabled": socket_mode,
            "token_rotation_enabled": False,
        },
    }


def render_manifest(url: str | None = None, socket_mode: bool = False, agent: bool = False) -> str:
    """The manifest as YAML, ready to paste into https://api.slack.com/apps -> Create New App -> From a manifest."""
    return yaml.safe_dump(manifest(url, socket_mode, agent), sort_keys=False, allow_unicode=True)
