"""Startup checks of the settings: a half-configured platform or a missing address is refused.

Each problem is a ``StartupError`` whose message is the operator's one line, naming the
variable to set. Runs before anything starts, so nothing is left half running.
"""

from __future__ import annotations

import os

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
    check_slack(settings)
    check_teams(settings)
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


def _missing(present: str, missing: str, why: str) -> StartupError:
    return StartupError(f"{present} is set but {missing} is not: {why}; set {missing} (or unset {present})")


def check_slack(s: Settings) -> None:
    if s.slack_client_id and not s.slack_client_secret:
        raise _missing("SLACK_CLIENT_ID", "SLACK_CLIENT_SECRET", "multi-workspace installs need both")
    if s.slack_client_secret and not s.slack_client_id:
        raise _missing("SLACK_CLIENT_SECRET", "SLACK_CLIENT_ID", "multi-workspace installs need both")
    has_credentials = bool(s.slack_bot_token or s.slack_client_id)
    if s.slack_bot_token and s.slack_bot_token.startswith("xapp-"):
        raise StartupError(
            "SLACK_BOT_TOKEN holds an app-level token (xapp-...): put it in SLACK_APP_TOKEN, and the bot token (xoxb-...) in SLACK_BOT_TOKEN"
        )
    if s.slack_app_token and not s.slack_app_token.startswith("xapp-"):
        raise StartupError(
            "SLACK_APP_TOKEN must be an app-level token (xapp-..., scope connections:write) for Socket Mode; unset it to serve /slack/events instead"
        )
    if s.slack_app_token and not has_credentials:
        raise _missing("SLACK_APP_TOKEN", "SLACK_BOT_TOKEN", "Socket Mode also needs the bot token to act")
    if has_credentials and not s.slack_signing_secret:
        present = "SLACK_BOT_TOKEN" if s.slack_bot_token else "SLACK_CLIENT_ID"
        raise _missing(
            present, "SLACK_SIGNING_SECRET", "Slack stays off without it (every request is verified with it)"
        )
    if s.slack_signing_secret and not has_credentials:
        raise _missing(
            "SLACK_SIGNING_SECRET", "SLACK_BOT_TOKEN", "Slack needs the bot token (or SLACK_CLIENT_ID/SECRET) to act"
        )


def check_teams(s: Settings) -> None:
    from adapters.teams.auth import APP_TYPES

    app_type = APP_TYPES.get((s.teams_app_type or "MultiTenant").lower())
    if app_type is None:
        raise StartupError(f"TEAMS_APP_TYPE={s.teams_app_type!r} is not one of {', '.join(APP_TYPES.values())}")
    if s.teams_app_password and not s.teams_app_id:
        raise _missing("TEAMS_APP_PASSWORD", "TEAMS_APP_ID", "the password belongs to an app id")
    if not s.teams_app_id:
        return
    if app_type in ("MultiTenant", "SingleTenant") and not s.teams_app_password:
        raise _missing("TEAMS_APP_ID", "TEAMS_APP_PASSWORD", f"a {app_type} bot signs in with its client secret")
    if app_type in ("SingleTenant", "UserAssignedMSI") and not s.teams_app_tenant_id:
        raise StartupError(f"TEAMS_APP_TYPE={app_type} needs TEAMS_APP_TENANT_ID: set it to the app's tenant id")


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
