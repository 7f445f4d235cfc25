"""Document processing as a child workflow: its one ChildSpec (registered in workflows/builtin_children.py)."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

from workflows.activities.documents import DocumentActivities
from workflows.childspec import ChildSpec, WorkerResources
from workflows.contracts import FileRef
from workflows.documents import DocumentProcessingWorkflow

_URL = re.compile(r"https?://\S+")


def document_args(text: str, files: list[FileRef]) -> dict[str, Any]:
    """The attached files and every link in the message, as ``args["documents"]``."""
    urls = _URL.findall(text)
    return {
        "documents": [f.model_dump() for f in files]
        + [FileRef(name=u.rsplit("/", 1)[-1] or u, url=u).model_dump() for u in urls]
    }


def document_activities(resources: WorkerResources) -> Sequence[Callable[..., Any]]:
    opts = resources.options
    documents = DocumentActivities(opts.document_max_bytes, opts.sources, opts.llm)
    return [documents.fetch_and_extract, documents.summarize]


DOCUMENTS = ChildSpec(
    workflow=DocumentProcessingWorkflow,
    kind="document",
    display_name="document processing",
    description="Fetch, extract and summarize shared files and links.",
    start_args=document_args,
    activities=document_activities,
)
