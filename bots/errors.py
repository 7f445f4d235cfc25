"""Operator errors: a startup or configuration mistake is one line (what, where, how to fix).

``StartupError`` is what preflight checks and the runner raise; ``one_line`` turns the
other expected failures (settings validation, rule and registry files, the dev server)
into the same shape, so the CLI can print one line and exit non-zero. Anything else is a
bug and keeps its traceback.
"""

from __future__ import annotations

import errno

from pydantic import ValidationError

from bots.devserver import DevServerError
from workflows.registry import RegistryError
from workflows.triggers import TriggerConfigError

#: Exit code for a configuration or startup error (argparse uses 2 for usage errors too).
EXIT_CONFIG = 2


class StartupError(RuntimeError):
    """A misconfiguration found at startup; the message is the one line the operator sees."""


def settings_error_line(err: ValidationError) -> str:
    """pydantic-settings' multi-line report as one line naming each variable and its value."""
    parts = []
    for item in err.errors():
        name = ".".join(str(p) for p in item.get("loc", ())) or "settings"
        value = item.get("input")
        shown = f"={value!r}" if isinstance(value, (str, int, float)) else ""
        msg = str(item.get("msg", "invalid")).removeprefix("Value error, ")
        parts.append(f"{name}{shown}: {msg}")
    return "invalid setting " + "; ".join(parts) + " (fix the environment variable or .env)"


def one_line(err: BaseException) -> str | None:
    """The operator's line for an expected startup failure, or None for a bug."""
    if isinstance(err, ValidationError) and err.title.endswith("Settings"):  # the process's or an adapter's
        return settings_error_line(err)
    if isinstance(err, (StartupError, DevServerError, TriggerConfigError, RegistryError)):
        return _flatten(str(err))
    if isinstance(err, OSError) and err.errno == errno.EADDRINUSE:
        return _flatten(f"an address is already in use: {err.strerror or err}")
    return None


def _flatten(text: str) -> str:
    return " ".join(text.split())
