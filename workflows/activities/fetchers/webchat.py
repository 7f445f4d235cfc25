"""Web chat uploads, read from the data dir the gateway saved them in (shared with the worker).

FileRef.url is the path relative to the data dir (``webchat-uploads/{id}/{name}``); anything
that resolves outside the uploads folder is refused, so a crafted FileRef cannot read other files.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from workflows.activities.fetchers import DocumentTooLarge, FetchError, Fetched, check_declared_size
from workflows.contracts import FileRef

UPLOADS_DIR = "webchat-uploads"


class WebChatUploadFetcher:
    def __init__(self, data_dir: Path | None) -> None:
        self.data_dir = data_dir

    def _path(self, doc: FileRef) -> Path:
        if self.data_dir is None:
            raise FetchError(f"I can't read the web chat upload {doc.name}: THREADWORK_DATA_DIR is not known to the worker")
        root = (self.data_dir / UPLOADS_DIR).resolve()
        path = (self.data_dir / doc.url).resolve()
        if not doc.url or not path.is_relative_to(root) or path == root:
            raise FetchError(f"I can't read {doc.name!r}: {doc.url!r} is not a web chat upload")
        return path

    async def fetch(self, doc: FileRef, max_bytes: int) -> Fetched:
        path = self._path(doc)
        try:
            size = path.stat().st_size
        except FileNotFoundError:
            raise FetchError(f"the web chat upload {doc.name} is gone") from None
        check_declared_size(doc, size, max_bytes)
        data = await asyncio.to_thread(_read_at_most, path, max_bytes + 1)
        if len(data) > max_bytes:  # it grew after stat
            raise DocumentTooLarge(doc.name, max_bytes)
        return Fetched(data, doc.mimetype)


def _read_at_most(path: Path, limit: int) -> bytes:
    with path.open("rb") as f:
        return f.read(limit)
