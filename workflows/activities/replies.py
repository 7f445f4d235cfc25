"""Reply generation: the built-in responder, or an OpenAI-compatible chat endpoint.

Failures of the language model raise, so Temporal retries them; the workflow turns
a final failure into a polite fallback reply.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

from temporalio import activity

from workflows.activities.models import ReplyRequest
from workflows.activities.responder import builtin_reply, command_of
from workflows.contracts import Reply

if TYPE_CHECKING:
    from openai import AsyncOpenAI  # loaded on first use: a worker without an LLM never imports it
    from openai.types.chat import ChatCompletionMessageParam

SYSTEM_PROMPT = (
    "You are threadwork, a helpful assistant for on-call engineers in a team chat. Answer briefly and concretely."
)


class LLMConfig:
    def __init__(self, base_url: str | None, model: str, api_key: str, timeout: float = 30.0) -> None:
        self.base_url = base_url
        self.model = model
        self.api_key = api_key
        self.timeout = timeout


def openai_client(llm: LLMConfig) -> AsyncOpenAI:
    """The SDK client for ``llm`` (openai imported on first use); Temporal owns retries, so the SDK must not."""
    from openai import AsyncOpenAI

    return AsyncOpenAI(base_url=llm.base_url, api_key=llm.api_key, timeout=llm.timeout, max_retries=0)


class ModelClientOwner:
    """Activities that call the model: one client each, made at first use, closed by ``aclose`` when
    the worker stops (workflows/worker.py), so its connections do not outlive the worker."""

    _llm: LLMConfig | None = None
    _client: AsyncOpenAI | None = None

    def _openai(self) -> AsyncOpenAI:
        if self._client is None:
            assert self._llm is not None
            self._client = openai_client(self._llm)
        return self._client

    async def aclose(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            await client.close()


class ReplyActivities(ModelClientOwner):
    def __init__(self, llm: LLMConfig | None = None) -> None:
        self._llm = llm if llm and llm.base_url else None

    @property
    def uses_llm(self) -> bool:
        return self._llm is not None

    def answers_builtin(self, req: ReplyRequest) -> bool:
        """Commands, "I've started …" and every reply without a configured model come from the built-in responder."""
        return self._llm is None or command_of(req.text) is not None or req.started is not None

    def llm_messages(self, req: ReplyRequest) -> list[ChatCompletionMessageParam]:
        messages: list[ChatCompletionMessageParam] = [{"role": "system", "content": SYSTEM_PROMPT}]
        for entry in req.summary.history[-20:]:
            if entry.role == "assistant":
                messages.append({"role": "assistant", "content": entry.text})
            else:
                messages.append({"role": "user", "content": f"{entry.actor}: {entry.text}"})
        if not req.summary.history or req.summary.history[-1].text != req.text:
            messages.append({"role": "user", "content": f"{req.actor.name or req.actor.id}: {req.text}"})
        return messages

    async def stream_llm(self, req: ReplyRequest) -> AsyncIterator[str]:
        """The model's answer as it arrives (``stream=True``): text deltas."""
        assert self._llm is not None
        stream = await self._openai().chat.completions.create(
            model=self._llm.model, messages=self.llm_messages(req), stream=True
        )
        try:
            async for chunk in stream:
                delta = chunk.choices[0].delta.content if chunk.choices else None
                if delta:
                    yield delta
        finally:
            await stream.close()  # a stopped turn hangs up on the model

    @activity.defn
    async def generate_reply(self, req: ReplyRequest) -> Reply:
        builtin = builtin_reply(req.text, req.summary, req.started)
        if self.answers_builtin(req):
            return builtin
        assert self._llm is not None
        messages = self.llm_messages(req)
        completion = await self._openai().chat.completions.create(model=self._llm.model, messages=messages)
        text = (completion.choices[0].message.content or "").strip() if completion.choices else ""
        if not text:
            raise RuntimeError("the language model returned an empty answer")
        return Reply(text=text)
