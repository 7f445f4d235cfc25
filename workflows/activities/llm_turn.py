"""One call of the language model with tools: it answers with tool calls or with text.

The workflow runs the tools (workflows/tools/); this activity only asks the model, so a
retried or replayed turn re-asks nothing that history already holds.
"""

from __future__ import annotations

from typing import Any

from temporalio import activity
from temporalio.exceptions import ApplicationError

from workflows.activities.replies import LLMConfig, ModelClientOwner
from workflows.tools.models import ModelTurnRequest, ModelTurnResult, ToolCall


class ModelTurnActivities(ModelClientOwner):
    def __init__(self, llm: LLMConfig | None) -> None:
        self._llm = llm if llm and llm.base_url else None

    @activity.defn
    async def model_turn(self, req: ModelTurnRequest) -> ModelTurnResult:
        if self._llm is None:
            # A session started with tools but this worker has no model: say so once, do not retry.
            raise ApplicationError("no language model is configured on this worker", type="NoModel", non_retryable=True)
        extra: dict[str, Any] = {"tools": req.tools} if req.tools else {}
        client: Any = self._openai()  # messages and tools are the model's JSON, as the tool loop built them
        completion = await client.chat.completions.create(model=self._llm.model, messages=req.messages, **extra)
        if not completion.choices:
            raise RuntimeError("the language model returned no choices")
        message = completion.choices[0].message
        calls = [
            ToolCall(id=c.id or f"call-{n}", name=c.function.name, arguments=c.function.arguments or "")
            for n, c in enumerate(message.tool_calls or [], 1)
            if getattr(c, "function", None) is not None
        ]
        text = (message.content or "").strip()
        if not calls and not text:
            raise RuntimeError("the language model returned an empty answer")
        return ModelTurnResult(text=text, tool_calls=calls)
