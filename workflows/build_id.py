"""The default Worker Deployment build id: a hash of the workflow code.

Workers of the same code share a build id, and any change to the workflows package (the
workflow classes, the activities they call, the trigger defaults) is a new build, so a
deploy of changed code never serves runs pinned to the old one (docs/deployment.md).
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent
#: What counts as workflow code: sources and the data files shipped with them.
SUFFIXES = (".py", ".yaml", ".yml")


def code_files(root: Path = PACKAGE) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file() and p.suffix in SUFFIXES and "__pycache__" not in p.parts)


@lru_cache
def code_build_id(root: Path = PACKAGE) -> str:
    """``wf-`` and 12 hex digits of a SHA-256 over each file's relative path and content."""
    digest = hashlib.sha256()
    for path in code_files(root):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return "wf-" + digest.hexdigest()[:12]
