"""What every adapter gets from the process that starts it (gateway or worker), besides its own settings."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from adapters.storage.backends import Storage


@dataclass(frozen=True)
class AdapterContext:
    #: Where this process's stores live (data dir, or PostgreSQL and S3): posted logs, uploads, the web chat store.
    storage: Storage
    #: THREADWORK_DATA_DIR: files shared by the gateway and the worker on one host.
    data_dir: Path
    #: THREADWORK_DOCUMENT_MAX_BYTES: the largest upload an adapter accepts.
    document_max_bytes: int
    #: THREADWORK_GUEST_MESSAGE_LIMIT, for adapters that tell guests about it up front.
    guest_message_limit: int
    #: THREADWORK_CUSTOM_WORKFLOWS: the operator's workflows, for adapters that offer them as commands.
    custom_workflows_file: Path | None = None
