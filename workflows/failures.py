"""The words of a failure that crossed Temporal: what the failing code said, not the wrapper around it.

A failed activity reaches workflow code as an ActivityError (a local activity's ApplicationError
as itself), a refused update reaches a client as a WorkflowUpdateFailedError; the message the
user should read is the ApplicationError's behind them. A timeout carries the last attempt's
failure as its own cause.
"""

from __future__ import annotations

from temporalio.exceptions import ApplicationError, TimeoutError


def failure_cause(err: BaseException) -> BaseException:
    """The failure behind ``err``: the ApplicationError (or other cause) it wraps, else ``err`` itself."""
    cause: BaseException = err if isinstance(err, ApplicationError) else (getattr(err, "cause", None) or err)
    if isinstance(cause, TimeoutError) and cause.cause is not None:
        cause = cause.cause  # the last attempt's failure
    return cause


def failure_message(err: BaseException) -> str:
    """The failing code's own words: the ApplicationError's message, else the cause's text."""
    cause = failure_cause(err)
    return cause.message if isinstance(cause, ApplicationError) else str(cause)


def failure_type(err: BaseException) -> str:
    """The ApplicationError's type behind ``err`` ("" for any other failure)."""
    cause = failure_cause(err)
    return (cause.type or "") if isinstance(cause, ApplicationError) else ""
