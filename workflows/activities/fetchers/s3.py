"""S3 objects (``s3://bucket/key``) with boto3; AWS_ENDPOINT_URL points it at MinIO, moto, etc."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit

from workflows.activities.fetchers import DocumentTooLarge, Fetched, FetchError, check_declared_size
from workflows.contracts import FileRef

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client


def parse_s3_url(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    if parts.scheme != "s3" or not parts.netloc or not parts.path.strip("/"):
        raise FetchError(f"{url!r} is not an s3://bucket/key address")
    return parts.netloc, unquote(parts.path.lstrip("/"))


class S3Fetcher:
    def __init__(self, endpoint_url: str | None = None) -> None:
        self.endpoint_url = endpoint_url
        self._client: S3Client | None = None

    def _s3(self) -> S3Client:
        if self._client is None:
            import boto3

            # boto3 reads credentials, region and AWS_ENDPOINT_URL from the environment too.
            self._client = boto3.session.Session().client("s3", endpoint_url=self.endpoint_url or None)
        return self._client

    def _get(self, doc: FileRef, max_bytes: int) -> Fetched:
        from botocore.exceptions import BotoCoreError, ClientError

        bucket, key = parse_s3_url(doc.url)
        try:
            obj = self._s3().get_object(Bucket=bucket, Key=key)
            check_declared_size(doc, obj.get("ContentLength"), max_bytes)
            data = obj["Body"].read(max_bytes + 1)
        except ClientError as err:
            code = err.response.get("Error", {}).get("Code", "")
            status = err.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
            raise FetchError(f"fetching s3://{bucket}/{key} failed: {code or status}", retryable=status >= 500) from err
        except BotoCoreError as err:
            raise FetchError(f"fetching s3://{bucket}/{key} failed: {err}", retryable=True) from err
        if len(data) > max_bytes:
            raise DocumentTooLarge(doc.name, max_bytes)
        return Fetched(data, obj.get("ContentType", ""))

    async def fetch(self, doc: FileRef, max_bytes: int) -> Fetched:
        return await asyncio.to_thread(self._get, doc, max_bytes)
