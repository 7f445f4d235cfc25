"""Microsoft Graph for SharePoint documents: which files changed, and their content.

Authorization is a static bearer (THREADWORK_GRAPH_TOKEN) or the app's client
credentials (tenant, client id, secret), cached until shortly before expiry. The base
URL is configurable, which is how tests stand a local server in for Graph.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

import httpx

from workflows.activities.fetchers import Fetched, FetchError, SourceSettings, check_declared_size, read_limited
from workflows.contracts import FileRef

GRAPH_SCOPE = "https://graph.microsoft.com/.default"


@dataclass
class ChangedFile:
    file: FileRef
    #: Stable per version of the item (drive, item, eTag): the event's natural id.
    version_id: str


class GraphClient:
    def __init__(
        self,
        base_url: str,
        *,
        token: str | None = None,
        tenant_id: str | None = None,
        client_id: str | None = None,
        client_secret: str | None = None,
        login_url: str = "https://login.microsoftonline.com",
        sharepoint_host: str | None = None,
        timeout: float = 10.0,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._static_token = token
        self._credentials = (tenant_id, client_id, client_secret)
        self._login_url = login_url.rstrip("/")
        self.sharepoint_host = sharepoint_host
        self.timeout = timeout
        self._token: tuple[str, float] | None = None
        self._lock = asyncio.Lock()

    @classmethod
    def from_settings(cls, s: SourceSettings, sharepoint_host: str | None = None) -> GraphClient:
        return cls(
            s.graph_base_url,
            token=s.graph_token,
            tenant_id=s.graph_tenant_id,
            client_id=s.graph_client_id,
            client_secret=s.graph_client_secret,
            login_url=s.graph_login_url,
            sharepoint_host=sharepoint_host,
        )

    @property
    def configured(self) -> bool:
        return bool(self._static_token or all(self._credentials))

    async def _bearer(self) -> str:
        if self._static_token:
            return self._static_token
        tenant, client_id, secret = self._credentials
        if not (tenant and client_id and secret):
            raise FetchError(
                "Microsoft Graph is not configured: set THREADWORK_GRAPH_TOKEN or the Graph client credentials"
            )
        async with self._lock:
            if self._token and self._token[1] > time.monotonic():
                return self._token[0]
            async with httpx.AsyncClient(timeout=self.timeout) as http:
                resp = await http.post(
                    f"{self._login_url}/{tenant}/oauth2/v2.0/token",
                    data={
                        "grant_type": "client_credentials",
                        "client_id": client_id,
                        "client_secret": secret,
                        "scope": GRAPH_SCOPE,
                    },
                )
            if resp.status_code != 200:
                raise FetchError(f"Graph sign-in failed: HTTP {resp.status_code}", retryable=resp.status_code >= 500)
            body = resp.json()
            self._token = (body["access_token"], time.monotonic() + max(int(body.get("expires_in", 3600)) - 60, 30))
            return self._token[0]

    async def get_json(self, path: str, params: dict[str, str] | None = None) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {await self._bearer()}"}
        try:
            async with httpx.AsyncClient(timeout=self.timeout) as http:
                resp = await http.get(f"{self.base_url}{path}", params=params, headers=headers)
        except httpx.HTTPError as err:
            raise FetchError(
                f"Microsoft Graph is unreachable: {str(err) or type(err).__name__}", retryable=True
            ) from err
        if resp.status_code >= 400:
            raise FetchError(
                f"Microsoft Graph answered HTTP {resp.status_code} for {path}", retryable=resp.status_code >= 500
            )
        return resp.json()

    async def site_id(self, site_url: str) -> str:
        host = self.sharepoint_host
        if not host:
            root = await self.get_json("/sites/root")
            host = root.get("siteCollection", {}).get("hostname", "")
        site = await self.get_json(f"/sites/{host}:{quote(site_url or '/')}")
        return site["id"]

    async def changed_files(self, site_url: str, list_id: str, lookback: timedelta) -> list[ChangedFile]:
        """Files of the list modified within ``lookback``: SharePoint's notification says only *that* the list changed."""
        site = await self.site_id(site_url)
        items = await self.get_json(f"/sites/{site}/lists/{list_id}/items", {"$expand": "driveItem", "$top": "50"})
        since = datetime.now(UTC) - lookback
        changed = []
        for item in items.get("value", []):
            drive_item = item.get("driveItem") or {}
            if "file" not in drive_item:
                continue  # folders and list items without a file
            modified = datetime.fromisoformat(
                item.get("lastModifiedDateTime", "1970-01-01T00:00:00Z").replace("Z", "+00:00")
            )
            if modified < since:
                continue
            drive_id = drive_item.get("parentReference", {}).get("driveId", "")
            version = item.get("eTag") or drive_item.get("eTag") or item.get("lastModifiedDateTime", "")
            ref = FileRef(
                name=drive_item.get("name") or item["id"],
                url=f"/drives/{drive_id}/items/{drive_item['id']}/content",
                mimetype=drive_item.get("file", {}).get("mimeType", ""),
                size=drive_item.get("size"),
                source="sharepoint",
            )
            changed.append(ChangedFile(ref, f"{drive_id}/{drive_item['id']}@{version}"))
        return changed

    async def download(self, doc: FileRef, max_bytes: int) -> Fetched:
        if not doc.url.startswith("/drives/"):
            raise FetchError(f"{doc.url!r} is not a Graph drive item path")
        check_declared_size(doc, None, max_bytes)
        headers = {"Authorization": f"Bearer {await self._bearer()}"}
        try:
            async with httpx.AsyncClient(timeout=30, follow_redirects=True) as http:
                async with http.stream("GET", f"{self.base_url}{doc.url}", headers=headers) as resp:
                    if resp.status_code >= 400:
                        raise FetchError(
                            f"fetching {doc.name} from SharePoint failed: HTTP {resp.status_code}",
                            retryable=resp.status_code >= 500,
                        )
                    data = await read_limited(doc, resp.aiter_bytes(), max_bytes)
                    return Fetched(data, resp.headers.get("content-type", ""), resp.charset_encoding)
        except httpx.HTTPError as err:
            raise FetchError(
                f"fetching {doc.name} from SharePoint failed: {str(err) or type(err).__name__}", retryable=True
            ) from err


class SharePointFetcher:
    def __init__(self, graph: GraphClient) -> None:
        self.graph = graph

    async def fetch(self, doc: FileRef, max_bytes: int) -> Fetched:
        return await self.graph.download(doc, max_bytes)
