"""Plain data of the model's tools: what a session offers (fixed at start) and what it did.

No imports from the rest of the core, so contracts.py can carry these in SessionConfig and
SessionState without a cycle.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

#: What happened to one tool call (``threadwork sessions show`` lists them).
Outcome = Literal["done", "proposed", "approved", "rejected", "expired", "cancelled", "refused", "invalid", "failed"]
#: How many tool call records a session keeps (the newest).
TOOL_CALLS_KEPT = 50


class ArgumentSpec(BaseModel):
    """One argument of a custom workflow as the registry declares it (``arguments:`` in the YAML)."""

    type: Literal["string", "integer", "number", "boolean"] = "string"
    description: str = ""
    required: bool = True
    enum: list[str] | None = None


class WorkflowTool(BaseModel):
    """A registered custom workflow the model may run with ``run_workflow``."""

    name: str
    workflow_type: str
    description: str = ""
    arguments: dict[str, ArgumentSpec] = Field(default_factory=dict)
    #: A human confirms before it starts (the registry's ``confirm: true``).
    confirm: bool = False


class ToolsConfig(BaseModel):
    """Set in SessionConfig when a language model is configured (THREADWORK_LLM_BASE_URL)."""

    workflows: list[WorkflowTool] = Field(default_factory=list)
    #: Model calls per turn that may ask for tools; one more call then must answer in text.
    max_rounds: int = Field(4, ge=1, le=10)
    #: Seconds one model call may take (the activity's start-to-close timeout).
    model_timeout_seconds: float = Field(60, gt=0)
    #: Seconds a confirmation waits before it is escalated to the requester, and again before it expires.
    confirm_timeout_seconds: float = Field(900, gt=0)
    #: Seconds a process_document call waits for the summary before the turn goes on without it.
    document_wait_seconds: float = Field(60, gt=0)


class ToolCall(BaseModel):
    """One function call the model asked for (OpenAI ``tool_calls`` entry); ``arguments`` is raw JSON text."""

    id: str
    name: str
    arguments: str = ""


class ModelTurnRequest(BaseModel):
    """The conversation so far (OpenAI chat messages) and the tools offered this round ([]: text only)."""

    messages: list[dict[str, Any]]
    tools: list[dict[str, Any]] = Field(default_factory=list)


class ModelTurnResult(BaseModel):
    text: str = ""
    tool_calls: list[ToolCall] = Field(default_factory=list)


class ToolCallRecord(BaseModel):
    """One tool call as the session recorded it: who caused it, what was asked, what came of it."""

    at: datetime
    call_id: str
    tool: str
    arguments: str
    actor_id: str
    actor_name: str = ""
    outcome: Outcome
    result: str = ""
    #: The child it started, if any.
    workflow_id: str | None = None
