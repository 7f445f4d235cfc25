"""Text out of document bytes: plain text, markdown, HTML, PDF (pypdf), DOCX (python-docx).

Runs inside the fetch activity, next to the bytes, so that only text reaches history.
"""

from __future__ import annotations

import html
import io
import logging
import re

log = logging.getLogger(__name__)

PDF_TYPES = {"application/pdf"}
DOCX_TYPES = {"application/vnd.openxmlformats-officedocument.wordprocessingml.document"}
TEXT_TYPES = {"text/plain", "text/markdown", "text/x-markdown", "text/csv"}
HTML_TYPES = {"text/html", "application/xhtml+xml"}
SUPPORTED = "text, markdown, HTML, PDF and Word (.docx)"


class UnsupportedDocument(ValueError):
    """The bytes are of a kind we cannot read (the message names it)."""


def kind_of(name: str, content_type: str) -> str:
    """text | html | pdf | docx, or the content type we don't read.

    The file name's extension wins over a generic content type (object stores often
    say application/octet-stream).
    """
    ctype = content_type.split(";")[0].strip().lower()
    lower = name.lower()
    if lower.endswith(".pdf") or ctype in PDF_TYPES:
        return "pdf"
    if lower.endswith(".docx") or ctype in DOCX_TYPES:
        return "docx"
    if lower.endswith((".html", ".htm")) or ctype in HTML_TYPES:
        return "html"
    if lower.endswith((".txt", ".md", ".markdown", ".csv", ".log")) or ctype in TEXT_TYPES:
        return "text"
    return ctype or "unknown"


def html_to_text(raw: str) -> str:
    raw = re.sub(r"(?is)<(script|style)\b.*?</\1>", " ", raw)
    raw = re.sub(r"(?i)<br\s*/?>|</(p|div|h[1-6]|li|tr|title)>", "\n", raw)
    return html.unescape(re.sub(r"<[^>]+>", " ", raw))


def pdf_to_text(data: bytes) -> str:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(data))
        return "\n".join((page.extract_text() or "") for page in reader.pages)
    except (PdfReadError, ValueError, KeyError) as err:
        log.warning("reading a PDF failed: %r", err)
        raise UnsupportedDocument("the PDF could not be read (it may be damaged or encrypted)") from err


def docx_to_text(data: bytes) -> str:
    import zipfile

    from docx import Document
    from docx.opc.exceptions import PackageNotFoundError

    try:
        document = Document(io.BytesIO(data))
    except (PackageNotFoundError, zipfile.BadZipFile, KeyError, ValueError) as err:
        log.warning("reading a Word document failed: %r", err)
        raise UnsupportedDocument("the Word document could not be read (it may be damaged)") from err
    lines = [p.text for p in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            lines.append(" | ".join(cell.text for cell in row.cells))
    return "\n".join(lines)


def extract_text(name: str, content_type: str, data: bytes, encoding: str | None = None) -> str:
    kind = kind_of(name, content_type)
    if kind == "pdf":
        return pdf_to_text(data)
    if kind == "docx":
        return docx_to_text(data)
    if kind in ("text", "html"):
        text = data.decode(encoding or "utf-8", errors="replace")
        return html_to_text(text) if kind == "html" else text
    raise UnsupportedDocument(f"I can't read {kind} files (I read {SUPPORTED})")
