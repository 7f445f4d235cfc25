"""Where web chat upload bytes live: the data dir (default) or an S3-compatible bucket (THREADWORK_UPLOADS_URL).

The gateway streams an upload into a staging folder, then ``publish`` makes it readable
by every worker: a no-op for the data dir (the staging folder is the final place, shared
through a volume), a put into ``s3://bucket/prefix/{id}/{name}`` otherwise. The message
row keeps the metadata (name, size, type); only the bytes live here.
"""

from __future__ import annotations

import asyncio
import re
import shutil
import tempfile
from abc import ABC, abstractmethod
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

UPLOADS_DIR = "webchat-uploads"
_ID = re.compile(r"^[0-9a-f]{16}$")


class UploadMissing(Exception):
    """No such upload (never stored, or removed)."""


class UploadStoreUnavailable(Exception):
    """The bucket refused or could not be reached; the message says which and why."""


def check_ref(upload_id: str, name: str) -> None:
    """Refuse ids and names that could reach outside the uploads (a crafted FileRef)."""
    if (
        not _ID.match(upload_id)
        or not name
        or "/" in name
        or "\\" in name
        or name in (".", "..")
        or name.startswith(".")
    ):
        raise UploadMissing(f"{upload_id}/{name} is not a web chat upload")


def split_url(url: str) -> tuple[str, str]:
    """``webchat-uploads/{id}/{name}`` (FileRef.url of a web chat upload) -> (id, name)."""
    parts = url.split("/")
    if len(parts) != 3 or parts[0] != UPLOADS_DIR:
        raise UploadMissing(f"{url!r} is not a web chat upload")
    check_ref(parts[1], parts[2])
    return parts[1], parts[2]


class UploadFiles(ABC):
    #: Where the gateway writes an upload before publishing it (``staging / id / name``).
    staging: Path

    @abstractmethod
    async def publish(self, upload_id: str, name: str) -> None: ...

    @abstractmethod
    async def size(self, upload_id: str, name: str) -> int:
        """Bytes stored; UploadMissing when there is no such upload."""

    @abstractmethod
    async def read(self, upload_id: str, name: str, limit: int) -> bytes:
        """At most ``limit`` bytes; UploadMissing when there is no such upload."""

    def local_path(self, upload_id: str, name: str) -> Path | None:
        """A file to serve directly, when the bytes are on this host."""
        return None


class LocalUploadFiles(UploadFiles):
    def __init__(self, data_dir: Path) -> None:
        self.staging = data_dir / UPLOADS_DIR

    async def publish(self, upload_id: str, name: str) -> None:
        """Already in place."""

    def local_path(self, upload_id: str, name: str) -> Path | None:
        check_ref(upload_id, name)
        path = self.staging / upload_id / name
        return path if path.is_file() else None

    async def size(self, upload_id: str, name: str) -> int:
        path = self.local_path(upload_id, name)
        if path is None:
            raise UploadMissing(f"{upload_id}/{name} is gone")
        return path.stat().st_size

    async def read(self, upload_id: str, name: str, limit: int) -> bytes:
        path = self.local_path(upload_id, name)
        if path is None:
            raise UploadMissing(f"{upload_id}/{name} is gone")
        return await asyncio.to_thread(_read_at_most, path, limit)


class S3UploadFiles(UploadFiles):
    """boto3 (credentials, region and AWS_ENDPOINT_URL from the environment, as for the S3 fetcher)."""

    def __init__(self, url: str, endpoint_url: str | None = None) -> None:
        parts = urlsplit(url)
        if parts.scheme != "s3" or not parts.netloc:
            raise ValueError(f"THREADWORK_UPLOADS_URL must look like s3://bucket/prefix, not {url!r}")
        self.bucket = parts.netloc
        prefix = parts.path.strip("/")
        self.prefix = f"{prefix}/" if prefix else ""
        self.endpoint_url = endpoint_url
        self.staging = Path(tempfile.gettempdir()) / "threadwork-upload-staging"
        self._client: S3Client | None = None

    def _s3(self) -> S3Client:
        if self._client is None:
            import boto3

            self._client = boto3.session.Session().client("s3", endpoint_url=self.endpoint_url or None)
        return self._client

    def key(self, upload_id: str, name: str) -> str:
        check_ref(upload_id, name)
        return f"{self.prefix}{upload_id}/{name}"

    async def publish(self, upload_id: str, name: str) -> None:
        from boto3.exceptions import S3UploadFailedError
        from botocore.exceptions import BotoCoreError, ClientError

        folder = self.staging / upload_id
        try:
            await asyncio.to_thread(self._s3().upload_file, str(folder / name), self.bucket, self.key(upload_id, name))
        except (BotoCoreError, ClientError, S3UploadFailedError) as err:
            raise UploadStoreUnavailable(
                f"storing the upload in s3://{self.bucket}/{self.prefix} failed: {err}"
            ) from None
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    def _head(self, upload_id: str, name: str) -> int:
        from botocore.exceptions import ClientError

        try:
            return int(self._s3().head_object(Bucket=self.bucket, Key=self.key(upload_id, name))["ContentLength"])
        except ClientError as err:
            if err.response.get("ResponseMetadata", {}).get("HTTPStatusCode") == 404:
                raise UploadMissing(f"{upload_id}/{name} is gone") from None
            raise

    def _get(self, upload_id: str, name: str, limit: int) -> bytes:
        from botocore.exceptions import ClientError

        try:
            obj = self._s3().get_object(Bucket=self.bucket, Key=self.key(upload_id, name))
        except ClientError as err:
            if err.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                raise UploadMissing(f"{upload_id}/{name} is gone") from None
            raise
        return obj["Body"].read(limit)

    async def size(self, upload_id: str, name: str) -> int:
        return await asyncio.to_thread(self._head, upload_id, name)

    async def read(self, upload_id: str, name: str, limit: int) -> bytes:
        return await asyncio.to_thread(self._get, upload_id, name, limit)


def upload_files(data_dir: Path, uploads_url: str | None, endpoint_url: str | None = None) -> UploadFiles:
    return S3UploadFiles(uploads_url, endpoint_url) if uploads_url else LocalUploadFiles(data_dir)


def _read_at_most(path: Path, limit: int) -> bytes:
    with path.open("rb") as f:
        return f.read(limit)
