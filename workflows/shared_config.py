"""One SessionConfig object per distinct configuration in a worker process.

Every session of a deployment carries the same SessionConfig in its input (children, platform
traits, limits: about 1.7 KB of JSON). Decoded per session it was about 70 objects and 11 KB of
every cached workflow. A session keeps the worker's one object equal to its own instead, so the
cache holds each configuration once. Equal by value, so what a session does cannot change with
it (replays included). Sessions share the object, so SessionConfig is frozen.
"""

from __future__ import annotations

from workflows.contracts import SessionConfig

#: Distinct configurations kept (deployments, builds and settings a worker has seen sessions of).
MAX_CONFIGS = 64

_configs: dict[str, SessionConfig] = {}


def shared(config: SessionConfig) -> SessionConfig:
    """The worker's object equal to ``config`` (``config`` itself the first time)."""
    key = config.model_dump_json()
    found = _configs.get(key)
    if found is not None:
        return found
    _configs[key] = config
    while len(_configs) > MAX_CONFIGS:  # oldest first; activations of other sessions may run alongside
        _configs.pop(next(iter(_configs)), None)
    return config
