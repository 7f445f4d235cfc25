"""Startup checks of the settings: a half-configured platform or a missing address is refused.

Each problem is a ``StartupError`` whose message is the operator's one line, naming the
variable to set. Runs before anything starts, so nothing is left half running.
"""

from __future__ import annotations

import os

from bots.adapters import adapter_classes, adapter_settings
from bots.config import Settings
from bots.errors import StartupError
from bots.ports import PortClaim, claim_problem


def check(settings: Settings, *, worker: bool, gateway: bool, dev: bool) -> None:
    if not dev and not settings.temporal_address:
        role = "worker" if worker else "gateway"
        raise StartupError(
            f"TEMPORAL_ADDRESS is not set: `threadwork {role}` needs the Temporal server's host:port "
            "(or run `threadwork dev`, which starts its own)"
        )
    check_data_dir(settings)
    check_adapters(settings)
    check_workflow_files(settings, worker=worker)
    claims = []
    if gateway:
        claims.append(PortClaim(settings.host, settings.port, "the gateway and web chat", "THREADWORK_PORT"))
    if worker and not gateway and settings.worker_metrics_port:
        claims.append(
            PortClaim(
                "127.0.0.1", settings.worker_metrics_port, "the worker's metrics", "THREADWORK_WORKER_METRICS_PORT"
            )
        )
    problem = claim_problem(claims)
    if problem is not None:
        raise StartupError(problem)


def check_data_dir(settings: Settings) -> None:
    """The web chat database, post logs and the dev server's database live here."""
    path = settings.data_dir
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise StartupError(
            f"THREADWORK_DATA_DIR {path}: {err.strerror or err}; point it at a writable directory"
        ) from err
    if not os.access(path, os.W_OK | os.X_OK):
        raise StartupError(f"THREADWORK_DATA_DIR {path} is not writable by this user; point it at a writable directory")


def check_adapters(settings: Settings) -> None:
    """Each platform's own settings (adapters/<platform>/adapter.py ``startup_problem``)."""
    for cls in adapter_classes(settings.adapters):
        problem = adapter_settings(cls, settings).startup_problem()
        if problem is not None:
            raise StartupError(problem)


def check_workflow_files(settings: Settings, *, worker: bool) -> None:
    """The custom-workflow registry and (for workers) the trigger rules, against the registered types.

    RegistryError / TriggerConfigError carry their one line; checked here so a typo is
    refused before the dev server or a Temporal connection is started.
    """
    from workflows import triggers
    from workflows.registry import load_registry
    from workflows.worker import WORKFLOWS, registered_workflows, workflow_types

    custom = load_registry(settings.custom_workflows_file)
    custom.check_against(WORKFLOWS)
    if worker:
        triggers.load_rules(settings.triggers_file, workflow_types(registered_workflows(custom)))
