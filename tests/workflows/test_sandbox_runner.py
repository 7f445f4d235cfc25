"""The worker's sandbox runner (workflows/sandbox_runner.py): same checks, snippets compiled once.

It subclasses temporalio's private sandbox instance, so these tests are also the alarm for an
SDK upgrade that changes that shape.
"""

from __future__ import annotations

import collections
import dataclasses
import uuid
from collections.abc import Sequence
from datetime import timedelta

import pytest
from temporalio import activity, workflow
from temporalio.api.common.v1 import Payload
from temporalio.client import Client, WorkflowFailureError
from temporalio.converter import DataConverter, PayloadCodec, SerializationContext, WithSerializationContext
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker
from temporalio.worker.workflow_sandbox import RestrictedWorkflowAccessError, SandboxedWorkflowRunner
from temporalio.worker.workflow_sandbox._runner import _Instance

from workflows import sandbox_runner
from workflows.sandbox_runner import workflow_runner


@workflow.defn(failure_exception_types=[RestrictedWorkflowAccessError])
class ReadsAFile:
    @workflow.run
    async def run(self) -> str:
        with open("/etc/hostname") as f:  # noqa: ASYNC230 - the forbidden call under test
            return f.read()  # I/O in a workflow: not deterministic, the sandbox refuses it


@workflow.defn
class Echo:
    @workflow.run
    async def run(self, text: str) -> str:
        return text


@activity.defn
async def shout(text: str) -> str:
    return text.upper()


@workflow.defn
class CallsActivities:
    @workflow.run
    async def run(self, text: str) -> str:
        remote = await workflow.execute_activity(shout, text, start_to_close_timeout=timedelta(seconds=30))
        local = await workflow.execute_local_activity(shout, text + "!", start_to_close_timeout=timedelta(seconds=30))
        return remote + local


@dataclasses.dataclass
class RecordingCodec(PayloadCodec, WithSerializationContext):
    """Changes nothing; notes the serialization context it was given for each call."""

    seen: list[tuple[str, SerializationContext | None]]
    context: SerializationContext | None = None

    def with_context(self, context: SerializationContext) -> RecordingCodec:
        return RecordingCodec(self.seen, context)

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        self.seen.append(("encode", self.context))
        return list(payloads)

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        self.seen.append(("decode", self.context))
        return list(payloads)


def test_the_runner_still_overrides_the_sdk_methods_it_means_to():
    # If temporalio renames or drops one of these, the subclass would silently stop doing
    # anything; fail here instead.
    for name in ("_run_code", "get_serialization_context", "get_external_store_context"):
        assert callable(getattr(_Instance, name, None)), name
        assert getattr(sandbox_runner._CompiledOnceInstance, name) is not getattr(_Instance, name), name


async def test_payloads_get_the_same_serialization_contexts_as_with_the_sdk_sandbox(time_env: WorkflowEnvironment):
    # Answered outside the sandbox now: a codec must still see, payload by payload, the context
    # temporalio's own sandbox gives it (the workflow's, a remote or a local activity's).
    queue = f"sandbox-{uuid.uuid4().hex[:8]}"
    seen_by: dict[str, collections.Counter[str]] = {}
    for name, runner in (("sdk", SandboxedWorkflowRunner()), ("threadwork", workflow_runner())):
        seen: list[tuple[str, SerializationContext | None]] = []
        config = time_env.client.config()
        config["data_converter"] = dataclasses.replace(DataConverter.default, payload_codec=RecordingCodec(seen))
        client = Client(**config)
        async with Worker(
            client, task_queue=queue, workflows=[CallsActivities], activities=[shout], workflow_runner=runner
        ):
            assert await client.execute_workflow(CallsActivities.run, "hi", id=queue, task_queue=queue) == "HIHI!"
        seen_by[name] = collections.Counter(repr(entry) for entry in seen)
    assert seen_by["threadwork"] == seen_by["sdk"]
    contexts = " ".join(seen_by["threadwork"])
    assert "is_local=True" in contexts and "is_local=False" in contexts  # both kinds of activity were seen
    assert not [code for code in sandbox_runner._COMPILED if "serialization_context" in code]


async def test_the_sandbox_still_refuses_what_a_workflow_must_not_do(time_env: WorkflowEnvironment):
    queue = f"sandbox-{uuid.uuid4().hex[:8]}"
    async with Worker(time_env.client, task_queue=queue, workflows=[ReadsAFile], workflow_runner=workflow_runner()):
        with pytest.raises(WorkflowFailureError) as failed:
            await time_env.client.execute_workflow(ReadsAFile.run, id=queue, task_queue=queue)
    assert "__builtins__.open" in str(failed.value.cause)


async def test_runs_share_the_compiled_snippets_instead_of_compiling_per_call(time_env: WorkflowEnvironment):
    queue = f"sandbox-{uuid.uuid4().hex[:8]}"
    async with Worker(time_env.client, task_queue=queue, workflows=[Echo], workflow_runner=workflow_runner()):
        assert await time_env.client.execute_workflow(Echo.run, "one", id=f"{queue}-1", task_queue=queue) == "one"
        after_one = dict(sandbox_runner._COMPILED)
        for n in range(2, 6):
            assert await time_env.client.execute_workflow(Echo.run, "n", id=f"{queue}-{n}", task_queue=queue) == "n"
    assert after_one, "the first run compiled its snippets into the cache"
    # Four more runs (new instances, activations, payloads) compiled nothing new: they reused
    # the very same code objects.
    assert sandbox_runner._COMPILED.keys() == after_one.keys()
    assert all(sandbox_runner._COMPILED[k] is v for k, v in after_one.items())
