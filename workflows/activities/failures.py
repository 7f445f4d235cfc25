"""Expected activity failures: one WARNING line per attempt, no traceback.

The Temporal worker logs every failed attempt at WARNING with the traceback of the error
and its chained causes (about 360 lines for one unreachable URL: 4 attempts, each with
the httpx traceback). A failure we expect (a bad link, an unsupported document, a
platform refusal) is raised as a BENIGN ApplicationError, which the worker logs only at
DEBUG, after one line of our own; the user reads its message in the conversation.
Raise the result ``from None`` so no cause rides along.
"""

from __future__ import annotations

import logging

from temporalio import activity
from temporalio.exceptions import ApplicationError, ApplicationErrorCategory


def expected_failure(
    logger: logging.Logger, message: str, kind: str, *, retryable: bool = False, subject: str = ""
) -> ApplicationError:
    """``subject`` (a file name) goes into the log line only: the user's text names it already."""
    said = f"{subject}: {message}" if subject else message
    if activity.in_activity():
        info = activity.info()
        logger.warning("%s (%s, attempt %d of %s)", said, kind, info.attempt, info.activity_type)
    else:
        logger.warning("%s (%s)", said, kind)
    return ApplicationError(message, type=kind, non_retryable=not retryable, category=ApplicationErrorCategory.BENIGN)
