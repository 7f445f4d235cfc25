"""Document activities: fetch within a size limit, extract text, summarize.

Fetching and extraction run in one activity so that document bytes never enter
workflow history; only the extracted text (bounded) does.
"""

from __future__ import annotations

import html
import re

import httpx
from pydantic import BaseModel
from temporalio import activity
from temporalio.exceptions import ApplicationError

from workflows.contracts import FileRef

MAX_TEXT_CHARS = 200_000
TEXT_TYPES = {"text/plain", "text/markdown", "text/x-markdown", "text/csv"}
HTML_TYPES = {"text/html", "application/xhtml+xml"}


class ExtractedDocument(BaseModel):
    name: str
    text: str
    truncated: bool = False


class DocumentSummary(BaseModel):
    name: str
    title: str
    summary: str
    characters: int


def _kind(doc: FileRef, content_type: str) -> str:
    ctype = (content_type or doc.mimetype).split(";")[0].strip().lower()
    name = doc.name.lower()
    if ctype in HTML_TYPES or name.endswith((".html", ".htm")):
        return "html"
    if ctype in TEXT_TYPES or name.endswith((".txt", ".md", ".markdown", ".csv", ".log")):
        return "text"
    return ctype or "unknown"


def html_to_text(raw: str) -> str:
    raw = re.sub(r"(?is)<(script|style)\b.*?</\1>", " ", raw)
    raw = re.sub(r"(?i)<br\s*/?>|</(p|div|h[1-6]|li|tr)>", "\n", raw)
    return html.unescape(re.sub(r"<[^>]+>", " ", raw))


def extractive_summary(text: str, max_sentences: int = 3) -> tuple[str, str]:
    """(title, summary): the first heading-like line, then the most informative sentences."""
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    if not lines:
        return "", ""
    title = lines[0].lstrip("# ").strip()[:120]
    body = " ".join(lines[1:] if len(lines) > 1 else lines)
    sentences = [s.strip() for s in re.split(r"(?<=[.!?])\s+", body) if len(s.split()) >= 4]
    if not sentences:
        return title, body[:300]
    words = re.findall(r"[a-z]{4,}", body.lower())
    freq: dict[str, int] = {}
    for w in words:
        freq[w] = freq.get(w, 0) + 1
    scored = sorted(
        range(len(sentences)),
        key=lambda i: -sum(freq.get(w, 0) for w in re.findall(r"[a-z]{4,}", sentences[i].lower()))
        / (1 + len(sentences[i].split()) ** 0.5),
    )
    keep = sorted(scored[:max_sentences])
    return title, " ".join(sentences[i] for i in keep)


class DocumentActivities:
    def __init__(self, max_bytes: int = 20 * 1024 * 1024) -> None:
        self.max_bytes = max_bytes

    @activity.defn
    async def fetch_and_extract(self, doc: FileRef) -> ExtractedDocument:
        if not doc.url.startswith(("http://", "https://")):
            raise ApplicationError(f"I can't fetch {doc.name!r}: no HTTP(S) address", type="FetchError", non_retryable=True)
        async with httpx.AsyncClient(timeout=30, follow_redirects=True) as client:
            async with client.stream("GET", doc.url) as resp:
                if resp.status_code >= 400:
                    raise ApplicationError(
                        f"fetching {doc.name} failed: HTTP {resp.status_code}",
                        type="FetchError",
                        non_retryable=resp.status_code < 500,
                    )
                body = bytearray()
                async for chunk in resp.aiter_bytes():
                    body.extend(chunk)
                    if len(body) > self.max_bytes:
                        raise ApplicationError(
                            f"{doc.name} is larger than the {self.max_bytes // (1024 * 1024)} MB document limit",
                            type="DocumentTooLarge",
                            non_retryable=True,
                        )
                kind = _kind(doc, resp.headers.get("content-type", ""))
                encoding = resp.encoding or "utf-8"
        if kind not in ("text", "html"):
            raise ApplicationError(
                f"{doc.name}: I can't read documents of type {kind!r} yet (supported: text, markdown, HTML)",
                type="UnsupportedDocument",
                non_retryable=True,
            )
        text = bytes(body).decode(encoding, errors="replace")
        if kind == "html":
            text = html_to_text(text)
        return ExtractedDocument(name=doc.name, text=text[:MAX_TEXT_CHARS], truncated=len(text) > MAX_TEXT_CHARS)

    @activity.defn
    async def summarize(self, doc: ExtractedDocument) -> DocumentSummary:
        title, summary = extractive_summary(doc.text)
        return DocumentSummary(name=doc.name, title=title or doc.name, summary=summary, characters=len(doc.text))
