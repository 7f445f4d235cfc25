"""Web chat uploads, read from where the gateway published them (adapters/storage/uploads.py).

The worker's document activity gets this fetcher for ``FileRef.source == "webchat"`` from
the web chat adapter (WebChatAdapter.document_fetchers, through the PlatformRegistry), so
the core never imports the adapter's storage.

FileRef.url is ``webchat-uploads/{id}/{name}``: the data dir shared with the gateway, or
the bucket of THREADWORK_UPLOADS_URL. Anything else is refused, so a crafted FileRef
cannot read other files or objects.
"""

from __future__ import annotations

from pathlib import Path

from adapters.storage.uploads import UPLOADS_DIR, UploadFiles, UploadMissing, split_url, upload_files
from workflows.activities.fetchers import DocumentTooLarge, Fetched, FetchError, check_declared_size
from workflows.contracts import FileRef

__all__ = ["UPLOADS_DIR", "WebChatUploadFetcher"]


class WebChatUploadFetcher:
    def __init__(self, data_dir: Path | None, uploads_url: str | None = None, endpoint_url: str | None = None) -> None:
        configured = data_dir is not None or uploads_url
        self.files: UploadFiles | None = (
            upload_files(data_dir or Path("."), uploads_url, endpoint_url) if configured else None
        )

    @classmethod
    def reading(cls, files: UploadFiles) -> WebChatUploadFetcher:
        """A fetcher over the upload store the gateway writes (adapters/storage/backends.py upload_files)."""
        fetcher = cls(None)
        fetcher.files = files
        return fetcher

    async def fetch(self, doc: FileRef, max_bytes: int) -> Fetched:
        if self.files is None:
            raise FetchError(
                f"I can't read the web chat upload {doc.name}: THREADWORK_DATA_DIR is not known to the worker"
            )
        try:
            upload_id, name = split_url(doc.url)
        except UploadMissing:
            raise FetchError(f"I can't read {doc.name!r}: {doc.url!r} is not a web chat upload") from None
        try:
            check_declared_size(doc, await self.files.size(upload_id, name), max_bytes)
            data = await self.files.read(upload_id, name, max_bytes + 1)
        except UploadMissing:
            raise FetchError(f"the web chat upload {doc.name} is gone") from None
        if len(data) > max_bytes:  # it grew after the size check
            raise DocumentTooLarge(doc.name, max_bytes)
        return Fetched(data, doc.mimetype)
