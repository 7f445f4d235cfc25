"""How one chat message is sent and awaited until its reply exists, for each side.

Both sides send the way a gateway does: update-with-start, workflow id = session id,
``USE_EXISTING``, update id = the message id, and both wait for the update to complete.
threadwork's update completes after the reply was posted to the web chat (its post
activity runs inside the update), so the clock stops when the user could see the reply.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass

from temporalio import common
from temporalio.client import Client, WithStartWorkflowOperation

from bench.echo import EchoWorkflow
from bots.config import Settings
from workflows.chat_session import ChatSessionWorkflow
from workflows.contracts import Actor, ChatMessage, ConversationKey, SessionInput
from workflows.data_converter import data_converter

TEXT = "hello, can you tell me how the deploy went?"
#: What the gateway would put in SessionInput (defaults and THREADWORK_* environment variables).
_SESSION_CONFIG = Settings(_env_file=None).session_config()


@dataclass
class Target:
    """One side of the comparison, bound to a running worker's task queue."""

    kind: str
    client: Client
    task_queue: str
    sent: int = 0  # messages answered so far

    @staticmethod
    async def connect(kind: str, address: str, task_queue: str) -> Target:
        converter = data_converter if kind == "threadwork" else None
        client = await Client.connect(address, **({"data_converter": converter} if converter else {}))
        return Target(kind, client, task_queue)

    def new_session(self) -> str:
        """A fresh conversation key (a new web chat thread)."""
        return f"bench-{uuid.uuid4().hex[:12]}"

    async def send(self, thread: str, text: str = TEXT) -> float:
        """Send one message into ``thread``; return seconds until its reply exists."""
        started = time.perf_counter()
        if self.kind == "threadwork":
            await self._send_threadwork(thread, text)
        else:
            await self._send_echo(thread, text)
        took = time.perf_counter() - started
        self.sent += 1
        return took

    async def _send_threadwork(self, thread: str, text: str) -> None:
        key = ConversationKey(platform="webchat", channel="general", thread=thread)
        msg = ChatMessage(key=key, actor=Actor(id="bench", name="bench"), text=text, message_id=uuid.uuid4().hex)
        # The same start operation as bots/dispatch.py Dispatcher._deliver.
        start = WithStartWorkflowOperation(
            ChatSessionWorkflow.run,
            SessionInput(key=key, config=_SESSION_CONFIG),
            id=key.session_id(),
            id_conflict_policy=common.WorkflowIDConflictPolicy.USE_EXISTING,
            task_queue=self.task_queue,
        )
        # Completes once the turn (reply written and, for the web chat, posted) is done; a refusal raises.
        await self.client.execute_update_with_start_workflow(
            ChatSessionWorkflow.receive_message, msg, id=msg.message_id, start_workflow_operation=start
        )

    async def _send_echo(self, thread: str, text: str) -> None:
        start = WithStartWorkflowOperation(
            EchoWorkflow.run,
            id=f"echo:{thread}",
            id_conflict_policy=common.WorkflowIDConflictPolicy.USE_EXISTING,
            task_queue=self.task_queue,
        )
        answer = await self.client.execute_update_with_start_workflow(
            EchoWorkflow.echo, text, id=uuid.uuid4().hex, start_workflow_operation=start
        )
        if answer != text:
            raise RuntimeError(f"echo answered {answer!r}")

    def workflow_id(self, thread: str) -> str:
        if self.kind == "threadwork":
            return ConversationKey(platform="webchat", channel="general", thread=thread).session_id()
        return f"echo:{thread}"
