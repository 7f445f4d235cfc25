"""Document activities: fetch within a size limit and extract text (one activity), summarize.

Fetching and extraction run in one activity so that document bytes never enter
workflow history; only the extracted text (bounded) does.
"""

from __future__ import annotations

import logging
import re

from pydantic import BaseModel
from temporalio import activity
from temporalio.exceptions import ApplicationError

from workflows.activities.extract import UnsupportedDocument, extract_text
from workflows.activities.failures import expected_failure
from workflows.activities.fetchers import DocumentTooLarge, Fetcher, FetchError, SourceSettings, build_fetchers
from workflows.activities.replies import LLMConfig, ModelClientOwner
from workflows.contracts import FileRef

log = logging.getLogger(__name__)
MAX_TEXT_CHARS = 200_000
#: How much of a document the language model sees.
LLM_INPUT_CHARS = 12_000
SUMMARY_PROMPT = (
    "Summarize the document for a team chat. Answer with a short title on the first line, "
    "then at most five sentences with the key points. No preamble."
)


class ExtractedDocument(BaseModel):
    name: str
    text: str
    truncated: bool = False


class DocumentSummary(BaseModel):
    name: str
    title: str
    summary: str
    characters: int
    method: str = "extractive"  # extractive | llm


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
        key=lambda i: (
            -sum(freq.get(w, 0) for w in re.findall(r"[a-z]{4,}", sentences[i].lower()))
            / (1 + len(sentences[i].split()) ** 0.5)
        ),
    )
    keep = sorted(scored[:max_sentences])
    return title, " ".join(sentences[i] for i in keep)


def _fail(message: str, kind: str, retryable: bool = False, doc: FileRef | None = None) -> ApplicationError:
    return expected_failure(log, message, kind, retryable=retryable, subject=doc.name if doc else "")


class DocumentActivities(ModelClientOwner):
    def __init__(
        self,
        max_bytes: int = 20 * 1024 * 1024,
        sources: SourceSettings | None = None,
        llm: LLMConfig | None = None,
        fetchers: dict[str, Fetcher] | None = None,
    ) -> None:
        self.max_bytes = max_bytes
        self.fetchers = fetchers if fetchers is not None else build_fetchers(sources or SourceSettings())
        self._llm = llm if llm and llm.base_url else None

    @activity.defn
    async def fetch_and_extract(self, doc: FileRef) -> ExtractedDocument:
        fetcher = self.fetchers.get(doc.source)
        if fetcher is None:
            raise _fail(f"I don't know the document source {doc.source!r}", "FetchError", doc=doc)
        try:
            fetched = await fetcher.fetch(doc, self.max_bytes)
            text = extract_text(doc.name, fetched.content_type or doc.mimetype, fetched.data, fetched.encoding)
        except DocumentTooLarge as err:
            raise _fail(str(err), "DocumentTooLarge", doc=doc) from None
        except FetchError as err:
            raise _fail(str(err), "FetchError", err.retryable, doc=doc) from None
        except UnsupportedDocument as err:
            raise _fail(str(err), "UnsupportedDocument", doc=doc) from None
        return ExtractedDocument(name=doc.name, text=text[:MAX_TEXT_CHARS], truncated=len(text) > MAX_TEXT_CHARS)

    @activity.defn
    async def summarize(self, doc: ExtractedDocument) -> DocumentSummary:
        if self._llm is None or not doc.text.strip():
            title, summary = extractive_summary(doc.text)
            return DocumentSummary(name=doc.name, title=title or doc.name, summary=summary, characters=len(doc.text))
        completion = await self._openai().chat.completions.create(
            model=self._llm.model,
            messages=[
                {"role": "system", "content": SUMMARY_PROMPT},
                {"role": "user", "content": f"Document {doc.name}:\n\n{doc.text[:LLM_INPUT_CHARS]}"},
            ],
        )
        answer = (completion.choices[0].message.content or "").strip() if completion.choices else ""
        if not answer:
            raise RuntimeError("the language model returned an empty summary")
        title, _, summary = answer.partition("\n")
        return DocumentSummary(
            name=doc.name,
            title=title.lstrip("# ").strip() or doc.name,
            summary=summary.strip(),
            characters=len(doc.text),
            method="llm",
        )
