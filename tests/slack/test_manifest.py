"""The Slack app manifests validate against Slack's official schema and match manifest/."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
import yaml

from adapters.slack.manifest import BOT_EVENTS, BOT_SCOPES, EXAMPLE_URL, manifest, render_manifest

REPO = Path(__file__).resolve().parents[2]
SCHEMA_NAME = "slack-app-manifest.schema.json"


def schema_path() -> Path:
    """The official schema, vendored with its license in tests/schemas/."""
    path = REPO / "tests" / "schemas" / SCHEMA_NAME
    if not path.is_file():
        pytest.fail(f"{path} is missing: copy it from the project's shared/schemas")
    return path


def validator() -> jsonschema.protocols.Validator:
    schema = json.loads(schema_path().read_text())
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def cli(*args: str) -> str:
    exe = Path(sys.executable).with_name("threadwork")
    return subprocess.run([str(exe), "manifest", "slack", *args], check=True, capture_output=True, text=True).stdout


@pytest.mark.parametrize("socket_mode", [False, True])
def test_manifest_validates_against_the_official_schema(socket_mode):
    data = yaml.safe_load(cli("--socket-mode") if socket_mode else cli("--url", "https://bot.example.com/"))
    errors = sorted(validator().iter_errors(data), key=str)
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors)
    assert data["settings"]["socket_mode_enabled"] is socket_mode
    assert data["settings"]["interactivity"]["is_enabled"] is True
    assert {
        "app_mentions:read",
        "channels:history",
        "groups:history",
        "im:history",
        "chat:write",
        "commands",
        "users:read",
        "channels:manage",
        "channels:join",
        "pins:write",
        "reactions:read",
    } <= set(data["oauth_config"]["scopes"]["bot"])
    assert {"app_mention", "message.channels", "message.groups", "message.im", "reaction_added"} <= set(
        data["settings"]["event_subscriptions"]["bot_events"]
    )
    assert [c["command"] for c in data["features"]["slash_commands"]] == ["/threadwork", "/incident"]
    if socket_mode:
        assert "request_url" not in data["settings"]["event_subscriptions"]
        assert all("url" not in c for c in data["features"]["slash_commands"])
    else:
        urls = [
            data["settings"]["event_subscriptions"]["request_url"],
            data["settings"]["interactivity"]["request_url"],
        ]
        urls += [c["url"] for c in data["features"]["slash_commands"]]
        assert set(urls) == {"https://bot.example.com/slack/events"}
        assert data["oauth_config"]["redirect_urls"] == ["https://bot.example.com/slack/oauth_redirect"]


def test_the_schema_check_can_fail():
    broken = manifest(url="https://bot.example.com")
    broken["features"]["slash_commands"][0]["command"] = "threadwork"  # no leading slash
    del broken["display_information"]
    assert len(list(validator().iter_errors(broken))) == 2


def test_manifest_folder_is_the_current_rendering():
    assert (REPO / "manifest" / "slack-app.yaml").read_text() == render_manifest(url=EXAMPLE_URL)
    assert (REPO / "manifest" / "slack-app.socket-mode.yaml").read_text() == render_manifest(socket_mode=True)
    assert (REPO / "manifest" / "slack-app.agent.yaml").read_text() == render_manifest(url=EXAMPLE_URL, agent=True)
    assert set(BOT_SCOPES) >= {"pins:write"} and "reaction_added" in BOT_EVENTS


def test_manifest_cli_needs_a_url_or_socket_mode():
    exe = Path(sys.executable).with_name("threadwork")
    result = subprocess.run([str(exe), "manifest", "slack"], capture_output=True, text=True)
    assert result.returncode == 2
    assert "--url" in result.stderr


@pytest.mark.parametrize(
    "url", ["x.example.com", "http://bot.example.com", "https://", "https:///slack", "https://bot.example.com/?a=1"]
)
def test_manifest_cli_refuses_a_url_slack_cannot_call(url):
    exe = Path(sys.executable).with_name("threadwork")
    done = subprocess.run([str(exe), "manifest", "slack", "--url", url], capture_output=True, text=True)
    assert done.returncode == 2
    assert done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "--url must" in lines[0], done.stderr
    assert "Traceback" not in done.stderr


def test_cli_is_quiet_when_its_reader_closes_the_pipe():
    """`threadwork ... | head -1`: a closed pipe ends the command without a traceback."""
    exe = Path(sys.executable).with_name("threadwork")
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone before the first line is written
    try:
        done = subprocess.run(
            [str(exe), "manifest", "slack", "--socket-mode"],
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            timeout=60,
        )
    finally:
        os.close(write_end)
    assert "Traceback" not in done.stderr and "BrokenPipe" not in done.stderr, done.stderr
    assert done.returncode == 141


@pytest.mark.parametrize("socket_mode", [False, True])
def test_agent_manifest_validates_and_declares_the_agent(socket_mode):
    args = ("--agent", "--socket-mode") if socket_mode else ("--agent", "--url", "https://bot.example.com")
    data = yaml.safe_load(cli(*args))
    errors = sorted(validator().iter_errors(data), key=str)
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors)
    view = data["features"]["agent_view"]
    assert view["agent_description"] and len(view["agent_description"]) <= 300
    assert 1 <= len(view["suggested_prompts"]) <= 4
    assert "assistant:write" in data["oauth_config"]["scopes"]["bot"]
    assert "agent_session_stopped" in data["settings"]["event_subscriptions"]["bot_events"]
    # Without --agent nothing of it is declared.
    plain = yaml.safe_load(cli(*args[1:]))
    assert "agent_view" not in plain["features"]
    assert "assistant:write" not in plain["oauth_config"]["scopes"]["bot"]
    assert "agent_session_stopped" not in plain["settings"]["event_subscriptions"]["bot_events"]


def test_the_schema_checks_the_agent_view():
    broken = manifest(url="https://bot.example.com", agent=True)
    broken["features"]["agent_view"]["suggested_prompts"] *= 2  # more than 4 prompts
    broken["features"]["agent_view"]["agent_name"] = "x"  # not a property of agent_view
    assert len(list(validator().iter_errors(broken))) == 2
