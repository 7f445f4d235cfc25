"""Settings from environment variables and a ``.env`` file (pydantic-settings)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from workflows.contracts import SessionConfig


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore", populate_by_name=True)

    # Temporal
    temporal_address: str | None = Field(None, validation_alias="TEMPORAL_ADDRESS")
    temporal_namespace: str = Field("default", validation_alias="TEMPORAL_NAMESPACE")
    task_queue: str = Field("threadwork", validation_alias="THREADWORK_TASK_QUEUE")

    # Local processes
    data_dir: Path = Field(Path(".threadwork"), validation_alias="THREADWORK_DATA_DIR")
    host: str = Field("127.0.0.1", validation_alias="THREADWORK_HOST")
    port: int = Field(3000, validation_alias="THREADWORK_PORT")
    dev_temporal_port: int = Field(7233, validation_alias="THREADWORK_DEV_TEMPORAL_PORT")
    dev_ui_port: int = Field(8233, validation_alias="THREADWORK_DEV_UI_PORT")
    worker_max_cached_workflows: int = Field(
        300, validation_alias="THREADWORK_WORKER_MAX_CACHED_WORKFLOWS"
    )
    worker_metrics_port: int | None = Field(None, validation_alias="THREADWORK_WORKER_METRICS_PORT")

    # Sessions
    guest_message_limit: int = Field(3, validation_alias="THREADWORK_GUEST_MESSAGE_LIMIT")
    session_idle_timeout: float = Field(86_400, validation_alias="THREADWORK_SESSION_IDLE_TIMEOUT")
    session_max_turns_per_run: int = Field(
        500, validation_alias="THREADWORK_SESSION_MAX_TURNS_PER_RUN"
    )
    triggers_file: Path | None = Field(None, validation_alias="THREADWORK_TRIGGERS_FILE")

    # Replies
    llm_base_url: str | None = Field(None, validation_alias="THREADWORK_LLM_BASE_URL")
    llm_model: str = Field("gpt-4o-mini", validation_alias="THREADWORK_LLM_MODEL")
    llm_api_key: str = Field("none", validation_alias=AliasChoices("THREADWORK_LLM_API_KEY"))
    llm_timeout: float = Field(30.0, validation_alias="THREADWORK_LLM_TIMEOUT")

    @property
    def temporal_target(self) -> str:
        return self.temporal_address or f"127.0.0.1:{self.dev_temporal_port}"

    def session_config(self) -> SessionConfig:
        return SessionConfig(
            guest_message_limit=self.guest_message_limit,
            idle_timeout_seconds=self.session_idle_timeout,
            max_turns_per_run=self.session_max_turns_per_run,
        )


@lru_cache
def get_settings() -> Settings:
    return Settings()
