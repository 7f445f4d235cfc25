"""Operator mistakes end the real ``threadwork`` console script with one line and no traceback.

Each case runs the installed console script as a subprocess in an empty working directory
(no .env) with a clean environment, and asserts the exit code, the one ``error:`` line and
that stderr holds nothing else. ``--debug`` and ``THREADWORK_LOG_LEVEL=debug`` add the
traceback.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.stack import free_port

THREADWORK = str(Path(sys.executable).parent / "threadwork")
RUN_DEADLINE = 60.0
OWN_PREFIXES = ("THREADWORK_", "SLACK_", "TEAMS_", "TEMPORAL_")

BAD_RULE = "rules:\n  - name: incident\n    workflow: IncidentWorkflw\n    patterns: ['outage']\n"
BAD_REGEX = "rules:\n  - name: incident\n    workflow: IncidentWorkflow\n    patterns: ['(unclosed']\n"
BAD_YAML = "rules:\n  - name: x\n   workflow: [\n"
BAD_REGISTRY = "workflows:\n  - name: deploy\n    entry_point: no.such.module:Thing\n"


def run(tmp_path: Path, args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(OWN_PREFIXES)}
    clean.update({"THREADWORK_DATA_DIR": str(tmp_path / "data"), **env})
    return subprocess.run(
        [THREADWORK, *args], cwd=tmp_path, env=clean, capture_output=True, text=True, timeout=RUN_DEADLINE
    )


def closed_address() -> str:
    """A loopback host:port where nothing listens (the port was free a moment ago)."""
    return f"127.0.0.1:{free_port()}"


def assert_one_line(result: subprocess.CompletedProcess[str], *expected: str) -> str:
    assert result.returncode == 2, (result.returncode, result.stderr)
    assert "Traceback" not in result.stderr, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    line = lines[0]
    assert line.startswith("error: "), line
    for part in expected:
        assert part in line, (part, line)
    assert "is running" not in result.stdout, result.stdout
    return line


def files(tmp_path: Path, **contents: str) -> dict[str, str]:
    paths = {}
    for name, text in contents.items():
        path = tmp_path / f"{name}.yaml"
        path.write_text(text)
        paths[name] = str(path)
    return paths


CASES = [
    # (id, command, env (with {addr} / {file:NAME} placeholders), expected parts of the line)
    (
        "port-not-an-int",
        "worker",
        {"THREADWORK_PORT": "abc", "TEMPORAL_ADDRESS": "{addr}"},
        ["THREADWORK_PORT='abc'", "valid integer"],
    ),
    ("worker-needs-address", "worker", {}, ["TEMPORAL_ADDRESS is not set", "threadwork worker"]),
    ("gateway-needs-address", "gateway", {}, ["TEMPORAL_ADDRESS is not set", "threadwork gateway"]),
    (
        "address-with-scheme",
        "worker",
        {"TEMPORAL_ADDRESS": "http://temporal:7233"},
        ["TEMPORAL_ADDRESS='http://temporal:7233'", "host:port"],
    ),
    ("address-without-port", "gateway", {"TEMPORAL_ADDRESS": "temporal"}, ["TEMPORAL_ADDRESS='temporal'", "host:port"]),
    (
        "address-unreachable",
        "worker",
        {"TEMPORAL_ADDRESS": "{addr}"},
        ["cannot reach Temporal at 127.0.0.1:", "TEMPORAL_ADDRESS", "Connection refused"],
    ),
    (
        "triggers-missing",
        "worker",
        {"TEMPORAL_ADDRESS": "{addr}", "THREADWORK_TRIGGERS_FILE": "{tmp}/nope.yaml"},
        ["nope.yaml", "No such file", "THREADWORK_TRIGGERS_FILE"],
    ),
    (
        "triggers-broken-yaml",
        "worker",
        {"TEMPORAL_ADDRESS": "{addr}", "THREADWORK_TRIGGERS_FILE": "{file:broken}"},
        ["broken.yaml", "not valid YAML", "line 3"],
    ),
    (
        "triggers-bad-regex",
        "worker",
        {"TEMPORAL_ADDRESS": "{addr}", "THREADWORK_TRIGGERS_FILE": "{file:regex}"},
        ["regex.yaml", "rule 'incident'", "bad pattern '(unclosed'"],
    ),
    (
        "triggers-unknown-workflow",
        "worker",
        {"TEMPORAL_ADDRESS": "{addr}", "THREADWORK_TRIGGERS_FILE": "{file:typo}"},
        [
            "typo.yaml",
            "rule 'incident'",
            "unknown workflow 'IncidentWorkflw'",
            "known workflow types:",
            "IncidentLinkWorkflow, IncidentWorkflow",
        ],
    ),
    (
        "triggers-unknown-workflow-dev",
        "dev",
        {"THREADWORK_TRIGGERS_FILE": "{file:typo}"},
        ["typo.yaml", "unknown workflow 'IncidentWorkflw'"],
    ),
    (
        "registry-broken",
        "gateway",
        {"TEMPORAL_ADDRESS": "{addr}", "THREADWORK_CUSTOM_WORKFLOWS": "{file:registry}"},
        ["registry.yaml", "entry 'deploy'", "cannot load 'no.such.module:Thing'"],
    ),
    (
        "registry-broken-yaml",
        "worker",
        {"TEMPORAL_ADDRESS": "{addr}", "THREADWORK_CUSTOM_WORKFLOWS": "{file:broken}"},
        ["broken.yaml", "not valid YAML"],
    ),
    (
        "slack-token-without-secret",
        "gateway",
        {"TEMPORAL_ADDRESS": "{addr}", "SLACK_BOT_TOKEN": "xoxb-1"},
        ["SLACK_BOT_TOKEN is set but SLACK_SIGNING_SECRET is not"],
    ),
    (
        "slack-secret-without-token",
        "worker",
        {"TEMPORAL_ADDRESS": "{addr}", "SLACK_SIGNING_SECRET": "s"},
        ["SLACK_SIGNING_SECRET is set but SLACK_BOT_TOKEN is not"],
    ),
    (
        "slack-app-token-alone",
        "gateway",
        {"TEMPORAL_ADDRESS": "{addr}", "SLACK_APP_TOKEN": "xapp-1", "SLACK_SIGNING_SECRET": "s"},
        ["SLACK_APP_TOKEN is set but SLACK_BOT_TOKEN is not"],
    ),
    (
        "slack-app-token-wrong-kind",
        "gateway",
        {
            "TEMPORAL_ADDRESS": "{addr}",
            "SLACK_APP_TOKEN": "xoxb-1",
            "SLACK_BOT_TOKEN": "xoxb-1",
            "SLACK_SIGNING_SECRET": "s",
        },
        ["SLACK_APP_TOKEN must be an app-level token (xapp-"],
    ),
    (
        "slack-client-id-alone",
        "gateway",
        {"TEMPORAL_ADDRESS": "{addr}", "SLACK_CLIENT_ID": "1.2", "SLACK_SIGNING_SECRET": "s"},
        ["SLACK_CLIENT_ID is set but SLACK_CLIENT_SECRET is not"],
    ),
    (
        "teams-id-without-password",
        "gateway",
        {"TEMPORAL_ADDRESS": "{addr}", "TEAMS_APP_ID": "app"},
        ["TEAMS_APP_ID is set but TEAMS_APP_PASSWORD is not"],
    ),
    (
        "teams-single-tenant-without-tenant",
        "worker",
        {
            "TEMPORAL_ADDRESS": "{addr}",
            "TEAMS_APP_ID": "app",
            "TEAMS_APP_PASSWORD": "pw",
            "TEAMS_APP_TYPE": "SingleTenant",
        },
        ["TEAMS_APP_TENANT_ID"],
    ),
    (
        "teams-password-without-id",
        "gateway",
        {"TEMPORAL_ADDRESS": "{addr}", "TEAMS_APP_PASSWORD": "pw"},
        ["TEAMS_APP_PASSWORD is set but TEAMS_APP_ID is not"],
    ),
    (
        "data-dir-is-a-file",
        "worker",
        {"TEMPORAL_ADDRESS": "{addr}", "THREADWORK_DATA_DIR": "{file:broken}"},
        ["THREADWORK_DATA_DIR", "broken.yaml", "writable directory"],
    ),
    (
        "teams-unknown-type",
        "gateway",
        {"TEMPORAL_ADDRESS": "{addr}", "TEAMS_APP_TYPE": "Personal"},
        ["TEAMS_APP_TYPE='Personal'"],
    ),
    (
        "unknown-event-loop",
        "worker",
        {"TEMPORAL_ADDRESS": "{addr}", "THREADWORK_EVENT_LOOP": "trio"},
        ["THREADWORK_EVENT_LOOP='trio'", "'uvloop' or 'asyncio'"],
    ),
]


def _expand(env: dict[str, str], tmp_path: Path) -> dict[str, str]:
    paths = files(tmp_path, broken=BAD_YAML, regex=BAD_REGEX, typo=BAD_RULE, registry=BAD_REGISTRY)
    out = {}
    for key, value in env.items():
        value = value.replace("{addr}", closed_address()).replace("{tmp}", str(tmp_path))
        for name, path in paths.items():
            value = value.replace(f"{{file:{name}}}", path)
        out[key] = value
    return out


@pytest.mark.parametrize(("command", "env", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_misconfiguration_is_one_line(tmp_path: Path, command: str, env: dict[str, str], expected: list[str]):
    result = run(tmp_path, [command], _expand(env, tmp_path))
    assert_one_line(result, *expected)


def test_gateway_port_in_use_is_one_line(tmp_path: Path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run(tmp_path, ["gateway"], {"TEMPORAL_ADDRESS": closed_address(), "THREADWORK_PORT": str(port)})
    assert_one_line(result, f"port {port} on 127.0.0.1", "already in use", "THREADWORK_PORT")


@pytest.mark.parametrize("how", ["--debug worker", "worker --debug", "THREADWORK_LOG_LEVEL=debug"])
def test_debug_shows_the_traceback(tmp_path: Path, how: str):
    env = {"THREADWORK_PORT": "abc"}
    if how.startswith("THREADWORK_LOG_LEVEL"):
        args = ["worker"]
        env["THREADWORK_LOG_LEVEL"] = "debug"
    else:
        args = how.split()
    result = run(tmp_path, args, env)
    assert result.returncode == 2
    assert "Traceback" in result.stderr and "ValidationError" in result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith("error: invalid setting THREADWORK_PORT='abc'")
