"""Where document bytes come from: one fetcher per source, all with the same size limit.

A fetcher returns the bytes of one FileRef; the fetch activity extracts text next to
them, so bytes never reach workflow history. Source SDKs are imported lazily so a
worker without, say, Azure settings never loads the Azure SDK.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Protocol

from workflows.contracts import FileRef


class FetchError(Exception):
    """The source refused or failed; ``retryable`` says whether trying again may help.

    The message is what the user reads after "I couldn't process {name}: ", so it is a plain
    clause that does not repeat the file name ("example.com could not be reached").
    """

    def __init__(self, message: str, *, retryable: bool = False) -> None:
        super().__init__(message)
        self.retryable = retryable


class DocumentTooLarge(FetchError):
    def __init__(self, name: str, limit: int) -> None:
        super().__init__(f"it is larger than the {format_size(limit)} document limit (THREADWORK_DOCUMENT_MAX_BYTES)")


def format_size(n: int) -> str:
    if n >= 1024 * 1024:
        return f"{n / (1024 * 1024):g} MB"
    if n >= 1024:
        return f"{n / 1024:g} KB"
    return f"{n} bytes"


@dataclass
class Fetched:
    data: bytes
    content_type: str = ""
    encoding: str | None = None


class Fetcher(Protocol):
    async def fetch(self, doc: FileRef, max_bytes: int) -> Fetched: ...


def check_declared_size(doc: FileRef, size: int | None, max_bytes: int) -> None:
    """Refuse before downloading when the source already says the object is too large."""
    for declared in (size, doc.size):
        if declared is not None and declared > max_bytes:
            raise DocumentTooLarge(doc.name, max_bytes)


async def read_limited(doc: FileRef, chunks: AsyncIterator[bytes], max_bytes: int) -> bytes:
    body = bytearray()
    async for chunk in chunks:
        body.extend(chunk)
        if len(body) > max_bytes:
            raise DocumentTooLarge(doc.name, max_bytes)
    return bytes(body)


@dataclass
class SourceSettings:
    """Credentials and endpoints of every document source (from bots/config.py)."""

    aws_endpoint_url: str | None = None
    azure_connection_string: str | None = None
    graph_base_url: str = "https://graph.microsoft.com/v1.0"
    graph_token: str | None = None
    graph_tenant_id: str | None = None
    graph_client_id: str | None = None
    graph_client_secret: str | None = None
    graph_login_url: str = "https://login.microsoftonline.com"
    #: Fetchers of sources the process adds (FileRef.source -> fetcher): e.g. the web chat's uploads,
    #: which bots/ passes in from adapters/webchat/upload_fetcher.py.
    extra: dict[str, Fetcher] = field(default_factory=dict)


def build_fetchers(settings: SourceSettings) -> dict[str, Fetcher]:
    """FileRef.source -> the fetcher for it: the document sources; chat platforms add theirs (``extra``)."""
    from workflows.activities.fetchers.azure_blob import AzureBlobFetcher
    from workflows.activities.fetchers.graph import GraphClient, SharePointFetcher
    from workflows.activities.fetchers.http import HttpFetcher
    from workflows.activities.fetchers.s3 import S3Fetcher

    plain = HttpFetcher()
    fetchers: dict[str, Fetcher] = {
        "url": plain,
        "s3": S3Fetcher(settings.aws_endpoint_url),
        "azure_blob": AzureBlobFetcher(settings.azure_connection_string),
        "sharepoint": SharePointFetcher(GraphClient.from_settings(settings)),
    }
    fetchers.update(settings.extra)
    return fetchers
