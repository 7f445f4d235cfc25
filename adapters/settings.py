"""The base of every adapter's own settings model (pydantic-settings: env vars and ``.env``)."""

from __future__ import annotations

from pydantic_settings import BaseSettings, SettingsConfigDict


class AdapterSettings(BaseSettings):
    """Subclass it with the adapter's fields (an ``env_prefix``, or an explicit ``validation_alias`` each).

    Unknown names are ignored, so one environment can hold every adapter's settings.
    """

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", populate_by_name=True)
