"""Azure blobs with azure-storage-blob, authorized by AZURE_STORAGE_CONNECTION_STRING.

Only blobs of the configured account are fetched: an event naming another account's
URL is refused rather than fetched with our credentials.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING
from urllib.parse import unquote

from workflows.activities.fetchers import DocumentTooLarge, Fetched, FetchError, check_declared_size
from workflows.contracts import FileRef

if TYPE_CHECKING:
    from azure.storage.blob import BlobServiceClient  # loaded on first use (the Azure SDK is large)


class AzureBlobFetcher:
    def __init__(self, connection_string: str | None) -> None:
        self.connection_string = connection_string
        self._service: BlobServiceClient | None = None

    def _client(self) -> BlobServiceClient:
        if not self.connection_string:
            raise FetchError("I can't fetch Azure blobs: AZURE_STORAGE_CONNECTION_STRING is not set")
        if self._service is None:
            from azure.storage.blob import BlobServiceClient

            self._service = BlobServiceClient.from_connection_string(self.connection_string)
        return self._service

    def locate(self, url: str) -> tuple[str, str]:
        """(container, blob name) of a blob URL in the configured account."""
        base = self._client().url.rstrip("/") + "/"
        if not url.startswith(base):
            raise FetchError(f"{url!r} is not in the storage account of AZURE_STORAGE_CONNECTION_STRING")
        container, _, blob = url[len(base) :].partition("/")
        if not container or not blob:
            raise FetchError(f"{url!r} does not name a container and a blob")
        return unquote(container), unquote(blob.split("?", 1)[0])

    def _get(self, doc: FileRef, max_bytes: int) -> Fetched:
        from azure.core.exceptions import AzureError, HttpResponseError

        container, name = self.locate(doc.url)
        blob = self._client().get_blob_client(container, name)
        try:
            props = blob.get_blob_properties()
            check_declared_size(doc, props.size, max_bytes)
            data = blob.download_blob(max_concurrency=1).readall()
        except HttpResponseError as err:
            status = err.status_code or 0
            raise FetchError(
                f"fetching blob {container}/{name} failed: HTTP {status} {err.reason or ''}".strip(),
                retryable=status >= 500,
            ) from err
        except AzureError as err:
            raise FetchError(f"fetching blob {container}/{name} failed: {err}", retryable=True) from err
        if len(data) > max_bytes:
            raise DocumentTooLarge(doc.name, max_bytes)
        return Fetched(data, props.content_settings.content_type or "")

    async def fetch(self, doc: FileRef, max_bytes: int) -> Fetched:
        return await asyncio.to_thread(self._get, doc, max_bytes)
