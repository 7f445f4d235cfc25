"""The Temporal sandbox, with each snippet it runs compiled once instead of on every call.

temporalio's sandboxed instance enters the sandbox by ``exec`` of a short source string, and
it does so for every activation and for every payload it converts (to ask the workflow for
the payload's serialization context). ``exec`` of a string compiles it each time: in py-spy
profiles that compile was the largest single cost of the worker (about 11% of its CPU in a
burst and of a replay). The strings are a handful of constants, so their code objects are
cached; what runs, and the sandbox's checks, are unchanged.

The two questions the payload visitor asks for every payload (the serialization context and the
external-store context of a command) are answered without entering the sandbox: each is a
lookup in the workflow's pending commands that imports nothing and calls nothing the sandbox
restricts, while entering it (the importer's context and an ``exec``) was about 10% of a
worker's CPU in a Teams burst (py-spy), for six visits of every activation and completion.

This reaches into temporalio's private ``_Instance`` (pinned in pyproject.toml);
tests/workflows/test_sandbox_runner.py fails if its shape changes.
"""

from __future__ import annotations

import threading
from types import CodeType
from typing import Any

import temporalio.workflow
from temporalio.converter import SerializationContext, StorageDriverStoreContext
from temporalio.worker import WorkflowInstance, WorkflowInstanceDetails, _command_aware_visitor
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions
from temporalio.worker.workflow_sandbox._runner import _Instance

#: Compiled snippets by source. Bounded by the few distinct strings the SDK runs (one set of
#: import snippets per workflow module); the bound only guards against a future SDK change.
_COMPILED: dict[str, CodeType] = {}
_MAX_COMPILED = 256


def _compiled(code: str) -> CodeType:
    compiled = _COMPILED.get(code)
    if compiled is None:
        compiled = compile(code, "<workflow-sandbox>", "exec")
        if len(_COMPILED) < _MAX_COMPILED:
            _COMPILED[code] = compiled
    return compiled


class _CompiledOnceInstance(_Instance):
    def _run_code(self, code: str, **extra_globals: Any) -> None:
        # The body of temporalio's _Instance._run_code, with the compile cached.
        for k, v in extra_globals.items():
            self.globals_and_locals[k] = v
        try:
            temporalio.workflow.unsafe._set_in_sandbox(True)
            self._current_thread_id = threading.get_ident()
            exec(_compiled(code), self.globals_and_locals, self.globals_and_locals)
        finally:
            temporalio.workflow.unsafe._set_in_sandbox(False)
            self._current_thread_id = None
            for k in extra_globals:
                self.globals_and_locals.pop(k, None)

    def _in_sandbox(self) -> Any:
        # temporalio's InSandbox, created by _Instance.__init__ inside the sandbox.
        return self.globals_and_locals["__temporal_in_sandbox"]

    def get_serialization_context(
        self, command_info: _command_aware_visitor.CommandInfo | None
    ) -> SerializationContext | None:
        return self._in_sandbox().get_serialization_context(command_info)

    def get_external_store_context(
        self, command_info: _command_aware_visitor.CommandInfo | None
    ) -> StorageDriverStoreContext:
        return self._in_sandbox().get_external_store_context(command_info)


class CompiledOnceSandboxRunner(SandboxedWorkflowRunner):
    """SandboxedWorkflowRunner whose instances compile each sandbox snippet once per process."""

    def create_instance(self, det: WorkflowInstanceDetails) -> WorkflowInstance:
        return _CompiledOnceInstance(det, self.runner_class, self.restrictions)


def workflow_runner() -> CompiledOnceSandboxRunner:
    """The runner of threadwork's workers (and of the replays that check them).

    Every module is passed through: imported once for all runs instead of once per cached
    workflow (bench/: 146 -> 93 KB per session), which asks that workflow modules have no
    import-time side effects. What the sandbox still refuses at run time: restricted builtins
    (``open``...) and restricted members of modules a workflow imports while it runs. A workflow
    module's own top-level imports are the real modules, so ``datetime.now()`` or
    ``random.random()`` written in one is not caught here; the lint (ruff's banned-api rule,
    workflows/ruff.toml) refuses those in the source instead.
    """
    return CompiledOnceSandboxRunner(restrictions=SandboxRestrictions.default.with_passthrough_all_modules())
