"""The worker's sandbox runner (workflows/sandbox_runner.py): same checks, snippets compiled once.

It subclasses temporalio's private sandbox instance, so these tests are also the alarm for an
SDK upgrade that changes that shape.
"""

from __future__ import annotations

import uuid

import pytest
from temporalio import workflow
from temporalio.client import WorkflowFailureError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker
from temporalio.worker.workflow_sandbox import RestrictedWorkflowAccessError
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


def test_the_runner_still_overrides_the_sdk_method_it_means_to():
    # If temporalio renames or drops _Instance._run_code, the subclass would silently stop
    # doing anything; fail here instead.
    assert callable(getattr(_Instance, "_run_code", None))
    assert sandbox_runner._CompiledOnceInstance._run_code is not _Instance._run_code


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
