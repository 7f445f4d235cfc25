"""The list of chat platforms: one line per built-in adapter, plus THREADWORK_ADAPTERS.

Loading an adapter registers its session id codec (workflows/session_ids.py), so ids of
its conversations can be made and read anywhere in the process; the built-ins are loaded
when this module is imported. A path that does not import, or a class that is not an
adapter, is a StartupError naming it.
"""

from __future__ import annotations

import importlib
from typing import Any, cast

from pydantic_settings import BaseSettings

from adapters.settings import AdapterSettings
from bots.adapter import Adapter
from bots.errors import StartupError
from workflows.platform_traits import PlatformTraits
from workflows.session_ids import register_codec

BUILTIN_ADAPTERS = (
    "adapters.webchat.adapter:WebChatAdapter",
    "adapters.slack.adapter:SlackAdapter",
    "adapters.teams.adapter:TeamsAdapter",
)

_REQUIRED = ("name", "traits", "session_ids", "settings_model", "enabled", "start", "mount", "close")
_LOADED: dict[str, type[Adapter]] = {}


def load_adapter(path: str) -> type[Adapter]:
    """The adapter class at ``module:Class`` (its codec registered); StartupError when it is not one."""
    if path in _LOADED:
        return _LOADED[path]
    module_name, _, attr = path.strip().partition(":")
    if not module_name or not attr:
        raise StartupError(f"THREADWORK_ADAPTERS: {path!r} is not module:Class (e.g. mypackage.discord:DiscordAdapter)")
    try:
        cls = getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError) as err:
        raise StartupError(f"adapter {path!r} could not be loaded: {err}") from None
    missing = [name for name in _REQUIRED if not hasattr(cls, name)]
    if missing:
        raise StartupError(f"adapter {path!r} is not an Adapter (bots/adapter.py): it lacks {', '.join(missing)}")
    traits, codec = cls.traits, cls.session_ids
    if not isinstance(traits, PlatformTraits) or traits.name != cls.name or codec.platform != cls.name:
        raise StartupError(f"adapter {path!r}: its traits and session id codec must name its platform {cls.name!r}")
    register_codec(cls.session_ids)
    _LOADED[path] = cast(type[Adapter], cls)
    return _LOADED[path]


def adapter_paths(extra: str) -> list[str]:
    """The built-ins, then the import paths of THREADWORK_ADAPTERS (comma or space separated), each once."""
    listed = [p for p in extra.replace(",", " ").split() if p]
    return list(dict.fromkeys([*BUILTIN_ADAPTERS, *listed]))


def adapter_classes(extra: str = "") -> list[type[Adapter]]:
    classes = [load_adapter(path) for path in adapter_paths(extra)]
    names = [cls.name for cls in classes]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise StartupError(f"more than one adapter for platform {', '.join(twice)} (THREADWORK_ADAPTERS)")
    return classes


def platform_traits(extra: str = "") -> dict[str, PlatformTraits]:
    """Every known platform's traits, by name: what workflow inputs carry."""
    return {cls.name: cls.traits for cls in adapter_classes(extra)}


def adapter_settings(cls: type[Adapter], shared: BaseSettings) -> AdapterSettings:
    """The adapter's own settings: its environment, with what the process's Settings were given explicitly
    (a test's ``Settings(slack_bot_token=...)``, a CLI override) taking precedence under the same env name."""
    given: dict[str, Any] = {}
    for name in shared.model_fields_set:
        alias = type(shared).model_fields[name].validation_alias
        given[alias if isinstance(alias, str) else name] = getattr(shared, name)
    given.update(getattr(shared, "adapter_values", {}))
    return cls.settings_model(**given)


for _path in BUILTIN_ADAPTERS:  # the built-ins' session ids work in every process that imports bots
    load_adapter(_path)
