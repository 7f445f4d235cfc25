"""One model call of the tool loop, streamed (issue 13): text goes to the platform as it arrives.

The model is asked with ``stream=True`` and the tools. While it answers in text and has asked
for no tool call, the text grows one message through the platform's ReplyStream (opened on
the first text, under the round's idempotency key, so a retried attempt rewrites its own
message); tool calls are collected silently and returned, as model_turn does. Like the
streamed turn it heartbeats, so a killed worker's call is retried elsewhere and Stop reaches
it as Temporal's cancellation. Only the final text and the MessageRef enter history.
"""

from __future__ import annotations

import asyncio
from typing import Any

from pydantic import BaseModel, Field
from temporalio import activity
from temporalio.exceptions import ApplicationError

from workflows.activities.guarded_stream import GuardedStream
from workflows.activities.platform import _as_temporal
from workflows.activities.replies import LLMConfig, ModelClientOwner
from workflows.activities.responder import fallback_reply
from workflows.activities.streaming_turn import _finished, _heartbeat_while_running, _stopped, open_reply_stream
from workflows.contracts import Actor, ConversationKey, Reply
from workflows.platform_port import PlatformError, PlatformRegistry
from workflows.stream_contracts import StreamedTurn
from workflows.tools.models import ModelTurnRequest, ToolCall


class StreamModelTurnRequest(BaseModel):
    model: ModelTurnRequest
    key: ConversationKey
    #: One per model call, from the workflow (Poster.next_key): the same on every attempt.
    idempotency_key: str
    actor: Actor | None = None
    reply_context: dict[str, Any] | None = None
    max_attempts: int = 3


class StreamModelTurnResult(BaseModel):
    text: str = ""
    tool_calls: list[ToolCall] = Field(default_factory=list)
    #: Set when text was shown (or Stop ended the call): what became of the streamed message.
    turn: StreamedTurn | None = None


class _CallParts:
    """Tool-call deltas (OpenAI sends each call's id and name once, its arguments in pieces, by index)."""

    def __init__(self) -> None:
        self._calls: dict[int, dict[str, str]] = {}

    def add(self, deltas: list[Any]) -> None:
        for d in deltas:
            call = self._calls.setdefault(d.index, {"id": "", "name": "", "arguments": ""})
            call["id"] = d.id or call["id"]
            if d.function is not None:
                call["name"] += d.function.name or ""
                call["arguments"] += d.function.arguments or ""

    def __bool__(self) -> bool:
        return bool(self._calls)

    def calls(self) -> list[ToolCall]:
        return [
            ToolCall(id=c["id"] or f"call-{n}", name=c["name"], arguments=c["arguments"])
            for n, (_, c) in enumerate(sorted(self._calls.items()), 1)
            if c["name"]
        ]


class StreamingModelTurnActivities(ModelClientOwner):
    def __init__(self, llm: LLMConfig | None, registry: PlatformRegistry) -> None:
        self._llm = llm if llm and llm.base_url else None
        self._registry = registry

    @activity.defn
    async def stream_model_turn(self, req: StreamModelTurnRequest) -> StreamModelTurnResult:
        if self._llm is None:
            raise ApplicationError("no language model is configured on this worker", type="NoModel", non_retryable=True)
        ticker = asyncio.create_task(_heartbeat_while_running())
        try:
            return await self._call(req)
        except PlatformError as err:
            raise _as_temporal(err) from None
        finally:
            ticker.cancel()

    async def _open(self, req: StreamModelTurnRequest) -> GuardedStream:
        try:
            platform = self._registry.get(req.key.platform)
            return GuardedStream(
                await open_reply_stream(platform, req.key, req.idempotency_key, req.actor, req.reply_context)
            )
        except PlatformError as err:
            activity.logger.warning("could not open a stream, the reply is delivered after the turn instead: %s", err)
            return GuardedStream(None, err)

    async def _call(self, req: StreamModelTurnRequest) -> StreamModelTurnResult:
        assert self._llm is not None
        extra: dict[str, Any] = {"tools": req.model.tools} if req.model.tools else {}
        parts: list[str] = []
        calls = _CallParts()
        stream: GuardedStream | None = None
        try:
            client: Any = self._openai()  # messages and tools are the model's JSON, as the tool loop built them
            response = await client.chat.completions.create(
                model=self._llm.model, messages=req.model.messages, stream=True, **extra
            )
            try:
                async for chunk in response:
                    delta = chunk.choices[0].delta if chunk.choices else None
                    if delta is None:
                        continue
                    calls.add(delta.tool_calls or [])
                    if delta.content:
                        parts.append(delta.content)
                        if not calls:
                            # Text and no tool call so far: the answer, shown as it arrives.
                            if stream is None:
                                stream = await self._open(req)
                                await stream.append("".join(parts))
                            else:
                                await stream.append(delta.content)
                        activity.heartbeat(len(parts))
            finally:
                await response.close()  # a stopped call hangs up on the model
            text = "".join(parts).strip()
            tool_calls = calls.calls()
            if not tool_calls and not text:
                raise RuntimeError("the language model returned an empty answer")
            if stream is None:
                return StreamModelTurnResult(text=text, tool_calls=tool_calls)
            reply = Reply(text=text)
            turn = _finished(stream, reply, await stream.finish(reply))
            return StreamModelTurnResult(text=text, tool_calls=tool_calls, turn=turn)
        except asyncio.CancelledError:
            if not activity.is_cancelled():
                raise  # the worker is shutting down: Temporal retries the call
            # The text shown so far (none when the text came after a tool call: it was never shown).
            shown = "".join(parts) if stream is not None else ""
            if stream is None:
                stream = await asyncio.shield(self._open(req))
            return StreamModelTurnResult(text=shown.strip(), turn=await _stopped(stream, shown))
        except Exception as err:
            if stream is None or activity.info().attempt < req.max_attempts:
                raise  # Temporal retries the call (the next attempt rewrites this message); the loop says sorry
            # The last attempt: the message this call started says sorry instead of staying half-written.
            activity.logger.warning("model call failed on the last attempt, answering with the fallback: %s", err)
            fallback = fallback_reply()
            turn = _finished(stream, fallback, await stream.finish(fallback))
            return StreamModelTurnResult(text=fallback.text, turn=turn)
