"""The base of every adapter's own settings model (pydantic-settings: env vars and ``.env``)."""

from __future__ import annotations

from pydantic_settings import BaseSettings, SettingsConfigDict


class AdapterSettings(BaseSettings):
    """Subclass it with the adapter's fields (an ``env_prefix``, or an explicit ``validation_alias`` each).

    Unknown names are ignored, so one environment can hold every adapter's settings.
    """

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", populate_by_name=True)

    def startup_problem(self) -> str | None:
        """The operator's one line when these settings are half configured (checked before anything starts)."""
        return None


def missing(present: str, absent: str, why: str) -> str:
    """The one line for a variable that needs another: what is set, what is not, why, how to fix."""
    return f"{present} is set but {absent} is not: {why}; set {absent} (or unset {present})"
