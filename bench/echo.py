"""The floor: the smallest useful Temporal chat session.

One workflow per conversation, started with update-with-start; each message is an
update answered by one local activity that returns the text. Default data converter,
default sandbox: what raw Temporal costs on this machine before threadwork adds anything.

Run as a worker process: ``python -m bench.echo ADDRESS TASK_QUEUE MAX_CACHED``.
"""

from __future__ import annotations

import asyncio
import sys
from datetime import timedelta

from temporalio import activity, workflow


@activity.defn
async def echo_text(text: str) -> str:
    return text


@workflow.defn
class EchoWorkflow:
    def __init__(self) -> None:
        self.done = False

    @workflow.run
    async def run(self) -> None:
        await workflow.wait_condition(lambda: self.done)

    @workflow.update
    async def echo(self, text: str) -> str:
        return await workflow.execute_local_activity(echo_text, text, start_to_close_timeout=timedelta(seconds=10))


async def serve(address: str, task_queue: str, max_cached: int) -> None:
    from temporalio.client import Client
    from temporalio.worker import Worker

    client = await Client.connect(address)
    worker = Worker(
        client,
        task_queue=task_queue,
        workflows=[EchoWorkflow],
        activities=[echo_text],
        max_cached_workflows=max_cached,
    )
    print("echo worker is running", flush=True)
    await worker.run()


if __name__ == "__main__":
    asyncio.run(serve(sys.argv[1], sys.argv[2], int(sys.argv[3])))
