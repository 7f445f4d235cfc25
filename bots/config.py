"""Settings from environment variables and a ``.env`` file (pydantic-settings)."""

from __future__ import annotations

import re
import sys
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import AliasChoices, Field, PrivateAttr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from temporalio.common import WorkerDeploymentVersion

from bots.event_loop import EventLoopName
from workflows.activities.fetchers import SourceSettings
from workflows.build_id import code_build_id
from workflows.builtin_children import all_children, child_entries
from workflows.contracts import DEFAULT_PLATFORM_RETRY_WINDOW, SessionConfig
from workflows.incident.incident_models import IncidentOptions
from workflows.incident.spec import incident_options
from workflows.platform_traits import PlatformTraits
from workflows.registry import load_registry
from workflows.tools.models import ToolsConfig

_NAME = re.compile(r"^[A-Za-z0-9_-]{1,100}$")
_BUILD = re.compile(r"^[A-Za-z0-9_.+-]{1,200}$")
_HOST_PORT = re.compile(r"^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_.-]+):[0-9]{1,5}$")


class Settings(BaseSettings):
    """The process's settings. Each chat platform reads its own (adapters/<platform>/adapter.py);
    ``Settings(...)`` also takes them by name (tests, CLI overrides) and ``adapter_values`` hands
    them on (bots/adapters.py ``adapter_settings``), so no platform needs a field here."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", populate_by_name=True)
    _adapter_values: dict[str, Any] = PrivateAttr(default_factory=dict)

    def __init__(self, **values: Any) -> None:
        known = _own_names()
        super().__init__(**{k: v for k, v in values.items() if k in known or k.startswith("_")})
        self._adapter_values = {k: v for k, v in values.items() if k not in known and not k.startswith("_")}

    @property
    def adapter_values(self) -> dict[str, Any]:
        """What ``Settings(...)`` was given for the adapters' settings, by field name or variable name."""
        return dict(self._adapter_values)

    # Temporal
    temporal_address: str | None = Field(None, validation_alias="TEMPORAL_ADDRESS")
    temporal_namespace: str = Field("default", validation_alias="TEMPORAL_NAMESPACE")
    task_queue: str = Field("threadwork", validation_alias="THREADWORK_TASK_QUEUE")
    # Worker Versioning (docs/deployment.md): "" turns it off; `threadwork dev` runs
    # unversioned unless THREADWORK_DEPLOYMENT_NAME is set.
    deployment_name: str = Field("threadwork", validation_alias="THREADWORK_DEPLOYMENT_NAME")
    build_id: str | None = Field(None, validation_alias="THREADWORK_BUILD_ID")

    # Local processes
    data_dir: Path = Field(Path(".threadwork"), validation_alias="THREADWORK_DATA_DIR")
    host: str = Field("127.0.0.1", validation_alias="THREADWORK_HOST")
    port: int = Field(3000, validation_alias="THREADWORK_PORT")
    dev_temporal_port: int = Field(7233, validation_alias="THREADWORK_DEV_TEMPORAL_PORT")
    dev_ui_port: int = Field(8233, validation_alias="THREADWORK_DEV_UI_PORT")
    worker_max_cached_workflows: int = Field(300, validation_alias="THREADWORK_WORKER_MAX_CACHED_WORKFLOWS")
    worker_metrics_port: int | None = Field(None, validation_alias="THREADWORK_WORKER_METRICS_PORT")
    #: The processes' event loop (bots/event_loop.py): uvloop, or asyncio's own (uvloop has no Windows build).
    event_loop: EventLoopName = Field(
        "asyncio" if sys.platform == "win32" else "uvloop", validation_alias="THREADWORK_EVENT_LOOP"
    )

    # Shared state (adapters/storage): PostgreSQL and an S3-compatible bucket instead of the data dir
    database_url: str | None = Field(None, validation_alias="THREADWORK_DATABASE_URL")
    uploads_url: str | None = Field(None, validation_alias="THREADWORK_UPLOADS_URL")

    # Web chat identity (adapters/webchat/identity.py); unset: open for `threadwork dev`, invite otherwise
    webchat_auth: Literal["open", "invite", "proxy"] | None = Field(None, validation_alias="THREADWORK_WEBCHAT_AUTH")
    webchat_proxy_header: str | None = Field(None, validation_alias="THREADWORK_WEBCHAT_PROXY_HEADER")
    webchat_secret: str | None = Field(None, validation_alias="THREADWORK_WEBCHAT_SECRET")
    #: Seconds before a stored web chat message that no gateway queued (its gateway died) is handed over.
    webchat_replay_after: float = Field(30.0, gt=0, validation_alias="THREADWORK_WEBCHAT_REPLAY_AFTER")

    # The gateway's inbound queue (bots/inbound_queue.py, bots/queued_dispatch.py)
    queue_concurrency: int = Field(32, ge=1, validation_alias="THREADWORK_QUEUE_CONCURRENCY")
    queue_lease_seconds: float = Field(30.0, gt=0, validation_alias="THREADWORK_QUEUE_LEASE_SECONDS")
    queue_inline_timeout: float = Field(5.0, gt=0, validation_alias="THREADWORK_QUEUE_INLINE_TIMEOUT")

    # Sessions
    guest_message_limit: int = Field(3, validation_alias="THREADWORK_GUEST_MESSAGE_LIMIT")
    session_idle_timeout: float = Field(86_400, validation_alias="THREADWORK_SESSION_IDLE_TIMEOUT")
    # Short runs bound what a cold reply replays; each continue-as-new costs the server a new run (docs/performance.md).
    session_max_turns_per_run: int = Field(10, ge=1, validation_alias="THREADWORK_SESSION_MAX_TURNS_PER_RUN")
    triggers_file: Path | None = Field(None, validation_alias="THREADWORK_TRIGGERS_FILE")
    #: Seconds a Slack/Teams post or update refused with 5xx, 429 or a network error is retried.
    platform_retry_window: float = Field(
        DEFAULT_PLATFORM_RETRY_WINDOW, gt=0, validation_alias="THREADWORK_PLATFORM_RETRY_WINDOW"
    )

    # Replies
    llm_base_url: str | None = Field(None, validation_alias="THREADWORK_LLM_BASE_URL")
    llm_model: str = Field("gpt-4o-mini", validation_alias="THREADWORK_LLM_MODEL")
    llm_api_key: str = Field("none", validation_alias=AliasChoices("THREADWORK_LLM_API_KEY"))
    llm_timeout: float = Field(30.0, validation_alias="THREADWORK_LLM_TIMEOUT")
    #: Model calls per turn that may ask for tools (docs/ai.md); then one more must answer in text.
    llm_tool_rounds: int = Field(4, ge=1, le=10, validation_alias="THREADWORK_LLM_TOOL_ROUNDS")
    #: Off: the model gets no tools and its answers stream into the conversation (docs/assistant.md).
    llm_tools: bool = Field(True, validation_alias="THREADWORK_LLM_TOOLS")
    #: The built-in responder's replies stream (status, chunks, Stop) to show the experience without a
    #: model; off (the default): posted whole at once, the fast path of docs/performance.md.
    builtin_stream: bool = Field(False, validation_alias="THREADWORK_BUILTIN_STREAM")

    # Chat platforms: adapters besides the built-ins (bots/adapters.py), e.g. mypkg.discord:DiscordAdapter
    adapters: str = Field("", validation_alias="THREADWORK_ADAPTERS")

    # Incidents
    incident_responders: str = Field("", validation_alias="THREADWORK_INCIDENT_RESPONDERS")
    incident_update_interval: float = Field(1800, validation_alias="THREADWORK_INCIDENT_UPDATE_INTERVAL")
    incident_approval_timeout: float = Field(900, validation_alias="THREADWORK_INCIDENT_APPROVAL_TIMEOUT")
    incident_announce_channels: str = Field(
        "webchat=incidents", validation_alias="THREADWORK_INCIDENT_ANNOUNCE_CHANNELS"
    )

    # Documents and external events
    document_max_bytes: int = Field(20 * 1024 * 1024, validation_alias="THREADWORK_DOCUMENT_MAX_BYTES")
    events_token: str | None = Field(None, validation_alias="THREADWORK_EVENTS_TOKEN")
    events_channel: str = Field("webchat:documents", validation_alias="THREADWORK_EVENTS_CHANNEL")
    custom_workflows_file: Path | None = Field(None, validation_alias="THREADWORK_CUSTOM_WORKFLOWS")
    aws_endpoint_url: str | None = Field(None, validation_alias="AWS_ENDPOINT_URL")
    azure_storage_connection_string: str | None = Field(None, validation_alias="AZURE_STORAGE_CONNECTION_STRING")
    graph_base_url: str = Field("https://graph.microsoft.com/v1.0", validation_alias="THREADWORK_GRAPH_BASE_URL")
    graph_login_url: str = Field("https://login.microsoftonline.com", validation_alias="THREADWORK_GRAPH_LOGIN_URL")
    graph_token: str | None = Field(None, validation_alias="THREADWORK_GRAPH_TOKEN")
    graph_tenant_id: str | None = Field(None, validation_alias="THREADWORK_GRAPH_TENANT_ID")
    graph_client_id: str | None = Field(None, validation_alias="THREADWORK_GRAPH_CLIENT_ID")
    graph_client_secret: str | None = Field(None, validation_alias="THREADWORK_GRAPH_CLIENT_SECRET")
    sharepoint_host: str | None = Field(None, validation_alias="THREADWORK_SHAREPOINT_HOST")
    sharepoint_lookback: float = Field(3600, validation_alias="THREADWORK_SHAREPOINT_LOOKBACK")

    @model_validator(mode="after")
    def _webchat_proxy_needs_header(self) -> Settings:
        if self.webchat_auth == "proxy" and not (self.webchat_proxy_header or "").strip():
            raise ValueError(
                "THREADWORK_WEBCHAT_AUTH=proxy needs THREADWORK_WEBCHAT_PROXY_HEADER (e.g. X-Forwarded-Email)"
            )
        return self

    @field_validator("deployment_name")
    @classmethod
    def _deployment_name(cls, value: str) -> str:
        value = value.strip()
        if value and not _NAME.match(value):
            raise ValueError("letters, digits, '-' and '_' only (Temporal joins it with the build id by '.' and ':')")
        return value

    @field_validator("build_id")
    @classmethod
    def _build_id(cls, value: str | None) -> str | None:
        value = (value or "").strip()
        if value and not _BUILD.match(value):
            raise ValueError(
                "up to 200 characters: letters, digits, '.', '-', '_' and '+' (e.g. a git sha or image tag)"
            )
        return value or None

    def deployment_version(self, *, dev: bool = False) -> WorkerDeploymentVersion | None:
        """This worker's Worker Deployment version, or None to run unversioned."""
        if not self.deployment_name or (dev and "deployment_name" not in self.model_fields_set):
            return None
        return WorkerDeploymentVersion(self.deployment_name, self.build_id or code_build_id())

    @field_validator("database_url")
    @classmethod
    def _postgres_url(cls, value: str | None) -> str | None:
        if not value or not value.strip():
            return None
        if value.split("://", 1)[0] not in ("postgres", "postgresql"):
            raise ValueError("expected postgresql://user:password@host:5432/dbname")
        return value.strip()

    @field_validator("uploads_url")
    @classmethod
    def _s3_url(cls, value: str | None) -> str | None:
        if not value or not value.strip():
            return None
        if not value.startswith("s3://") or len(value.rstrip("/")) <= len("s3://"):
            raise ValueError("expected s3://bucket or s3://bucket/prefix")
        return value.strip()

    @field_validator("temporal_address")
    @classmethod
    def _host_port(cls, value: str | None) -> str | None:
        """Temporal's client takes host:port; a URL or a missing port fails late and obscurely."""
        if not value:
            return None
        value = value.strip()
        if not _HOST_PORT.match(value) or not 0 < int(value.rsplit(":", 1)[1]) < 65536:
            raise ValueError("expected host:port without a scheme, e.g. temporal.example.com:7233")
        return value

    @property
    def temporal_target(self) -> str:
        return self.temporal_address or f"127.0.0.1:{self.dev_temporal_port}"

    def document_sources(self) -> SourceSettings:
        return SourceSettings(
            aws_endpoint_url=self.aws_endpoint_url,
            azure_connection_string=self.azure_storage_connection_string,
            graph_base_url=self.graph_base_url,
            graph_token=self.graph_token,
            graph_tenant_id=self.graph_tenant_id,
            graph_client_id=self.graph_client_id,
            graph_client_secret=self.graph_client_secret,
            graph_login_url=self.graph_login_url,
        )

    @field_validator("incident_announce_channels")
    @classmethod
    def _announce_pairs(cls, value: str) -> str:
        IncidentOptions.model_validate({"announce_channels": value})  # platform=channel pairs, said at start
        return value

    def session_config(self) -> SessionConfig:
        """What every new session carries, including the child workflows it may start (built-ins and
        THREADWORK_CUSTOM_WORKFLOWS, each with its operator options): workflows/childspec.py."""
        return SessionConfig(
            guest_message_limit=self.guest_message_limit,
            idle_timeout_seconds=self.session_idle_timeout,
            max_turns_per_run=self.session_max_turns_per_run,
            children=child_entries(all_children(self.custom_workflows_file), self),
            platform_retry_window_seconds=self.platform_retry_window,
            tools=self.tools_config(),
            platforms=self.platform_traits(),
            stream_builtin=self.builtin_stream,
        )

    def tools_config(self) -> ToolsConfig | None:
        """The model's tools (workflows/tools/), offered when a language model is configured (unless turned off)."""
        if not self.llm_base_url or not self.llm_tools:
            return None
        return ToolsConfig(
            workflows=load_registry(self.custom_workflows_file).tools(),
            max_rounds=self.llm_tool_rounds,
            model_timeout_seconds=self.llm_timeout + 10,
            confirm_timeout_seconds=self.incident_approval_timeout,
        )

    def platform_traits(self) -> dict[str, PlatformTraits]:
        """Every known platform's traits (built-ins and THREADWORK_ADAPTERS): what workflow inputs carry."""
        from bots.adapters import platform_traits

        return platform_traits(self.adapters)

    def child_args(self) -> dict[str, dict[str, Any]]:
        """Operator options by child workflow type, as sessions pass them (for starters outside a session)."""
        return {entry.workflow_type: entry.args for entry in self.session_config().children if entry.args}

    def incident_args(self) -> dict[str, Any]:
        """IncidentWorkflow options (workflows.incident.incident_models.IncidentOptions) from these settings."""
        return incident_options(self)


@lru_cache
def _own_names() -> frozenset[str]:
    """Settings' field names and environment variable names (the rest of Settings(...) is the adapters')."""
    names = set(Settings.model_fields)
    for field in Settings.model_fields.values():
        alias = field.validation_alias
        if isinstance(alias, str):
            names.add(alias)
        elif isinstance(alias, AliasChoices):
            names.update(a for a in alias.choices if isinstance(a, str))
    return frozenset(names)


@lru_cache
def get_settings() -> Settings:
    return Settings()
