"""Temporal's server limits, checked before anything is queued or started.

A message over these limits can never be accepted, so it must be refused with the
reason (4xx), not reported as an outage and retried forever. The values are the
server's defaults (``limit.maxIDLength`` and ``limit.blobSize.error`` in its dynamic
config); an operator who raised them on the cluster can raise them here too.
"""

from __future__ import annotations

from typing import Any

from workflows.data_converter import data_converter

#: Longest workflow id / update id the server accepts (``limit.maxIDLength``).
MAX_ID_LENGTH = 1000
#: Largest payload the server accepts in one request (``limit.blobSize.error``, 2 MiB).
MAX_BLOB_BYTES = 2 * 1024 * 1024


def id_problem(what: str, value: str) -> str | None:
    """Why ``value`` cannot be a Temporal id (None when it can)."""
    if len(value) > MAX_ID_LENGTH:
        return f"the {what} is {len(value)} characters; Temporal takes at most {MAX_ID_LENGTH}"
    return None


def payload_size(value: Any) -> int:
    """Bytes ``value`` takes as a Temporal payload with the data converter the gateway uses."""
    [payload] = data_converter.payload_converter.to_payloads([value])
    return payload.ByteSize()


def payload_problem(what: str, value: Any) -> str | None:
    """Why ``value`` is too big for Temporal (None when it fits)."""
    size = payload_size(value)
    if size > MAX_BLOB_BYTES:
        return f"the {what} is {size:,} bytes; Temporal takes at most {MAX_BLOB_BYTES:,} (2 MB)"
    return None
