"""docker-compose.yml and the Dockerfile describe a deployment that can work (no Docker here)."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from bots.cli import parser

REPO = Path(__file__).resolve().parents[1]
COMPOSE = yaml.safe_load((REPO / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]


def test_compose_has_the_production_services():
    assert {"postgresql", "temporal", "temporal-ui", "worker", "gateway"} <= set(SERVICES)
    assert SERVICES["temporal"]["environment"]["POSTGRES_SEEDS"] == "postgresql"
    assert SERVICES["temporal"]["environment"]["DB"].startswith("postgres")
    assert SERVICES["temporal-ui"]["environment"]["TEMPORAL_ADDRESS"] == "temporal:7233"


def test_worker_and_gateway_run_real_cli_commands_against_the_compose_temporal():
    entrypoint = re.search(r'ENTRYPOINT \["(\w+)"\]', (REPO / "Dockerfile").read_text()).group(1)
    assert entrypoint == "threadwork"
    for name, expected in (("worker", "worker"), ("gateway", "gateway")):
        service = SERVICES[name]
        args = parser().parse_args(service["command"])  # SystemExit here means "not a real command"
        assert args.command == expected
        assert service["environment"]["TEMPORAL_ADDRESS"] == "temporal:7233"
        assert service["depends_on"]["temporal"]["condition"] == "service_healthy"
        assert service["build"] == "."
    assert SERVICES["gateway"]["environment"]["THREADWORK_HOST"] == "0.0.0.0"
    assert "3000:3000" in SERVICES["gateway"]["ports"]


def test_worker_and_gateway_share_the_web_chat_data():
    worker_volumes = set(SERVICES["worker"]["volumes"])
    assert worker_volumes & set(SERVICES["gateway"]["volumes"])
    assert "threadwork-data" in COMPOSE["volumes"]


def test_dockerfile_installs_the_three_packages():
    dockerfile = (REPO / "Dockerfile").read_text()
    for package in ("bots", "workflows", "adapters"):
        assert f"COPY {package} ./{package}" in dockerfile
    assert "pip install --no-cache-dir ." in dockerfile
