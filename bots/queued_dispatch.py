"""The gateway's dispatcher: queue first, then deliver (inline when it can, else in the background).

Every message is checked against Temporal's limits (refused with the reason), written
to the inbound queue (bots/inbound_queue.py), then handed to its session right away
when nothing older of that session waits, so the usual latency stays as it was. A
transient failure (timeout, Temporal unreachable or restarting, resource exhausted)
leaves it queued and answers QUEUED; the drainer delivers it later, in order per
session, with the same update id, so Temporal's dedupe makes a repeat harmless.
At most ``concurrency`` deliveries talk to Temporal at once: a burst waits here
instead of becoming a storm of timeouts.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import sqlite3
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta

from temporalio.client import Client

from adapters.storage import StoreUnavailable
from adapters.storage.backends import Storage
from adapters.temporal_limits import id_problem, payload_problem
from bots.config import Settings
from bots.dispatch import ACCEPT_TIMEOUT, Dispatcher
from bots.inbound_queue import Enqueued, Entry, InboundQueue, QueueStats, SQLiteInboundQueue
from bots.inbound_queue_postgres import PostgresInboundQueue
from bots.metrics import MESSAGES, QUEUE_DEPTH, QUEUE_OLDEST_AGE, QUEUE_RETRIES
from workflows.contracts import (
    ActionEvent,
    ActionResult,
    Actor,
    ChatMessage,
    ConversationKey,
    SessionState,
    TriggerRequest,
)
from workflows.platform_port import Delivery
from workflows.stream_contracts import StopResult

log = logging.getLogger(__name__)

#: A Delivery status that means "the session has it, or never will": the entry is finished.
FINAL = (Delivery.ACCEPTED, Delivery.DUPLICATE, Delivery.INVALID)
#: What the queue's store raises when it cannot be used (then messages go without it).
STORE_ERRORS = (sqlite3.Error, OSError, StoreUnavailable)

#: Tells a sender that a message accepted earlier was refused when its session finally saw it.
RefusedNotice = Callable[[ChatMessage, str], Awaitable[None]]


@dataclass(frozen=True)
class QueueOptions:
    #: Deliveries in flight toward Temporal at once (inline and background together).
    concurrency: int = 32
    #: How long a claimed entry belongs to one gateway; a dead gateway's entries return after it.
    lease_seconds: float = 30.0
    #: The inline attempt's budget (waiting for a slot + Temporal accepting), before it is left queued.
    inline_timeout: float = 5.0
    #: Retry backoff: ``min(first * 2**attempts, max)`` seconds.
    first_backoff: float = 0.5
    max_backoff: float = 5.0
    #: How often the drainer looks for due entries when nothing woke it.
    poll_seconds: float = 0.5


def gateway_dispatcher(
    client: Client, settings: Settings, storage: Storage | None = None, tell_refused: RefusedNotice | None = None
) -> QueuedDispatcher:
    """The dispatcher a gateway runs: the queue in PostgreSQL when the storage has a database (gateways on
    many hosts share it), else a file in THREADWORK_DATA_DIR; options from settings."""
    options = QueueOptions(
        concurrency=settings.queue_concurrency,
        lease_seconds=settings.queue_lease_seconds,
        inline_timeout=settings.queue_inline_timeout,
    )
    inner = Dispatcher(client, settings.task_queue, settings.session_config())
    queue: InboundQueue
    if storage is not None and storage.database is not None:
        queue = PostgresInboundQueue(storage.database)
    else:
        queue = SQLiteInboundQueue(settings.data_dir / "inbound-queue.sqlite3")
    return QueuedDispatcher(inner, queue, options, tell_refused)


class Slots:
    """A counting limit whose free count the drainer can read (asyncio.Semaphore hides it)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.busy = 0
        #: Callers of ``acquire`` waiting for a slot right now.
        self.waiting = 0
        self._changed = asyncio.Condition()

    @property
    def free(self) -> int:
        return max(0, self.size - self.busy)

    async def acquire(self, timeout: float) -> bool:
        self.waiting += 1
        try:
            async with self._changed:
                try:
                    await asyncio.wait_for(self._changed.wait_for(lambda: self.busy < self.size), timeout)
                except TimeoutError:
                    return False
                self.busy += 1
                return True
        finally:
            self.waiting -= 1

    def take(self, n: int) -> None:
        self.busy += n

    async def release(self) -> None:
        async with self._changed:
            self.busy -= 1
            self._changed.notify()


class QueuedDispatcher:
    """A SessionDispatcher (adapters/base.py) with the durable inbound queue in front of ``inner``."""

    def __init__(
        self,
        inner: Dispatcher,
        queue: InboundQueue,
        options: QueueOptions | None = None,
        tell_refused: RefusedNotice | None = None,
    ) -> None:
        self.inner = inner
        self.queue = queue
        self.options = options or QueueOptions()
        self.tell_refused = tell_refused
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.slots = Slots(self.options.concurrency)
        self._wake = asyncio.Event()
        self._drainer: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    # ---- lifecycle (the gateway's startup and cleanup) -------------------------------

    async def start(self) -> None:
        await self.queue.open()
        self._drainer = asyncio.create_task(self._drain(), name="inbound-queue-drainer")

    async def close(self) -> None:
        tasks = [t for t in (self._drainer, *self._tasks) if t is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._drainer = None
        await self.queue.close()

    # ---- messages --------------------------------------------------------------------

    async def deliver(self, msg: ChatMessage) -> Delivery:
        result = await self._deliver(msg)
        MESSAGES.labels(msg.key.platform, result.status).inc()
        return result

    async def _deliver(self, msg: ChatMessage) -> Delivery:
        session_id = msg.key.session_id()
        problem = (
            id_problem("conversation id", session_id)
            or id_problem("message id", msg.message_id)
            or payload_problem("message", msg)
        )
        if problem:
            return Delivery(Delivery.INVALID, session_id, problem)
        try:
            state, seq, head_attempts = await self.queue.enqueue(msg, self.owner, self.options.lease_seconds)
        except STORE_ERRORS as err:
            log.error("the inbound queue could not store %s (%s); delivering without it", msg.message_id, err)
            return await self.inner.deliver_once(msg)
        if state is Enqueued.ALREADY_QUEUED:
            return Delivery(Delivery.QUEUED, session_id, "already waiting for its session")
        if state is Enqueued.BEHIND:
            self._wake.set()
            # Behind a message that is merely being delivered, this one follows in milliseconds:
            # only a head that has failed before means a real wait worth telling.
            notify = head_attempts > 0 and await self.queue.first_notice(session_id)
            return Delivery(Delivery.QUEUED, session_id, "after the conversation's earlier messages", notify=notify)
        return await self._inline(seq, msg)

    async def _inline(self, seq: int, msg: ChatMessage) -> Delivery:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.options.inline_timeout
        # A burst: as many wait for a slot already as there are slots, so this one would only hold its
        # sender for the whole inline budget and then be queued anyway. Queue it now (fault case 6).
        line_full = self.slots.free == 0 and self.slots.waiting >= self.slots.size
        if line_full or not await self.slots.acquire(self.options.inline_timeout):
            await self.queue.retry_later(seq, self.owner, 0, "waited for a free slot")
            self._wake.set()
            return await self._queued(msg.key.session_id(), "many messages are waiting; it is next in line")
        try:
            budget = max(0.5, deadline - loop.time())
            result = await self.inner.deliver_once(msg, timedelta(seconds=budget))
        finally:
            await self.slots.release()
        return await self._settle(seq, msg, result, attempts=0)

    async def _settle(self, seq: int, msg: ChatMessage, result: Delivery, attempts: int) -> Delivery:
        # A store that fails here leaves the entry leased: it comes back when the lease runs out,
        # and a repeat is harmless (same update id), so the outcome stands.
        if result.status in FINAL:
            try:
                await self.queue.done(seq)
            except STORE_ERRORS as err:
                log.warning("could not mark %s as delivered in the inbound queue: %s", msg.message_id, err)
            self._wake.set()  # the session's next message may go now
            return result
        delay = min(self.options.first_backoff * 2**attempts, self.options.max_backoff)
        try:
            await self.queue.retry_later(seq, self.owner, delay, result.detail)
        except STORE_ERRORS as err:
            log.warning("could not reschedule %s in the inbound queue: %s", msg.message_id, err)
        QUEUE_RETRIES.inc()
        return await self._queued(msg.key.session_id(), result.detail)

    async def _queued(self, session_id: str, why: str) -> Delivery:
        return Delivery(Delivery.QUEUED, session_id, why, notify=await self.queue.first_notice(session_id))

    # ---- the background drainer --------------------------------------------------------

    async def _drain(self) -> None:
        while True:
            self._wake.clear()
            try:
                entries = await self.queue.claim(self.owner, self.slots.free, self.options.lease_seconds)
            except STORE_ERRORS as err:
                log.warning("the inbound queue could not be read: %s", err)
                entries = []
            self.slots.take(len(entries))
            for entry in entries:
                task = asyncio.create_task(self._drain_one(entry))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.options.poll_seconds)

    async def _drain_one(self, entry: Entry) -> None:
        try:
            result = await self.inner.deliver_once(entry.message, ACCEPT_TIMEOUT)
            if result.status == Delivery.INVALID:
                log.warning(
                    "queued message %s for %s was refused: %s",
                    entry.message.message_id,
                    entry.session_id,
                    result.detail,
                )
                await self._tell_refused(entry.message, result.detail)
            elif result.status in (Delivery.ACCEPTED, Delivery.DUPLICATE):
                log.info(
                    "delivered queued message %s to %s after %d attempts",
                    entry.message.message_id,
                    entry.session_id,
                    entry.attempts + 1,
                )
            await self._settle(entry.seq, entry.message, result, attempts=entry.attempts + 1)
        except asyncio.CancelledError:
            raise
        except Exception:  # a bug: keep the entry (its lease runs out) and the drainer alive
            log.exception("draining %s failed", entry.message.message_id)
        finally:
            await self.slots.release()
            self._wake.set()

    async def _tell_refused(self, msg: ChatMessage, reason: str) -> None:
        """The sender was told "catching up" (or nothing): now they learn it will not be answered, and why."""
        if self.tell_refused is None:
            return
        try:
            await self.tell_refused(msg, reason)
        except Exception as err:  # the platform is down too: the log line above still says it
            log.warning("could not tell %s that message %s was refused: %s", msg.actor.id, msg.message_id, err)

    async def stats(self) -> QueueStats:
        stats = await self.queue.stats()
        QUEUE_DEPTH.set(stats.depth)
        QUEUE_OLDEST_AGE.set(stats.oldest_age_seconds)
        return stats

    # ---- everything else goes straight through ------------------------------------------

    @property
    def client(self) -> Client:
        return self.inner.client

    @property
    def task_queue(self) -> str:
        return self.inner.task_queue

    async def act(self, workflow_id: str, event: ActionEvent) -> ActionResult:
        return await self.inner.act(workflow_id, event)

    async def trigger(self, key: ConversationKey, request: TriggerRequest) -> Delivery:
        return await self.inner.trigger(key, request)

    async def has_session(self, session_id: str) -> bool:
        return await self.inner.has_session(session_id)

    async def session_state(self, session_id: str) -> SessionState | None:
        return await self.inner.session_state(session_id)

    async def incident_action(self, key: ConversationKey, event: ActionEvent) -> ActionResult | None:
        return await self.inner.incident_action(key, event)

    async def stop_turn(self, session_id: str, actor: Actor, request_id: str = "") -> StopResult:
        return await self.inner.stop_turn(session_id, actor, request_id)
