"""The measurements, each run the same way against either side (a ``Target``)."""

from __future__ import annotations

import asyncio
import math
import time
from dataclasses import dataclass, field

from bench.targets import Target
from bench.workers import WorkerProcess


def percentile(samples: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of ``samples``."""
    ordered = sorted(samples)
    rank = max(1, min(len(ordered), math.ceil(q / 100 * len(ordered))))
    return ordered[rank - 1]


@dataclass
class Latency:
    samples: list[float] = field(default_factory=list)

    @property
    def p50_ms(self) -> float:
        return percentile(self.samples, 50) * 1000

    @property
    def p99_ms(self) -> float:
        return percentile(self.samples, 99) * 1000


async def latency_new(target: Target, n: int) -> Latency:
    """One sender; every message opens a new conversation (workflow start + first turn)."""
    out = Latency()
    for _ in range(n):
        out.samples.append(await target.send(target.new_session()))
    return out


async def latency_existing(target: Target, n: int, sessions: int = 5) -> Latency:
    """One sender; messages go round-robin into a few already open, cached conversations."""
    threads = [target.new_session() for _ in range(sessions)]
    for thread in threads:
        await target.send(thread)
    out = Latency()
    for i in range(n):
        out.samples.append(await target.send(threads[i % sessions]))
    return out


async def throughput(target: Target, senders: int, per_sender: int) -> float:
    """``senders`` users at once, each in its own new conversation, each sending
    ``per_sender`` messages one after another (waiting for each reply). Messages/s."""

    async def user() -> None:
        thread = target.new_session()
        for _ in range(per_sender):
            await target.send(thread)

    started = time.perf_counter()
    await asyncio.gather(*(user() for _ in range(senders)))
    return senders * per_sender / (time.perf_counter() - started)


async def open_sessions(target: Target, count: int, concurrency: int = 20) -> list[str]:
    """Open ``count`` conversations (one message each) with ``concurrency`` senders."""
    threads = [target.new_session() for _ in range(count)]
    queue = iter(threads)

    async def sender() -> None:
        for thread in queue:
            await target.send(thread)

    await asyncio.gather(*(sender() for _ in range(concurrency)))
    return threads


@dataclass
class MemoryResult:
    max_cached: int
    sessions: int
    baseline_mb: float
    after_mb: float
    cold: Latency
    warm: Latency

    @property
    def per_1000_mb(self) -> float:
        return (self.after_mb - self.baseline_mb) * 1000 / self.sessions


async def memory(target: Target, worker: WorkerProcess, sessions: int, probes: int) -> MemoryResult:
    """RSS growth of a fresh worker while ``sessions`` conversations stay open.

    Afterwards, when more sessions are open than the cache holds, the oldest ones were
    evicted: a message to one of them replays its history first (a cold turn). The
    newest ones are still cached (warm turns) and give the comparison in the same worker.
    """
    await open_sessions(target, 20)  # imports, sandbox, connections: not per-session cost
    await asyncio.sleep(1)
    baseline = worker.rss_mb()
    threads = await open_sessions(target, sessions)
    await asyncio.sleep(2)
    after = worker.rss_mb()
    cold, warm = Latency(), Latency()
    if sessions > worker.max_cached:
        probes = min(probes, sessions - worker.max_cached, worker.max_cached)
        for thread in threads[:probes]:
            cold.samples.append(await target.send(thread))
        for thread in threads[-probes:]:
            warm.samples.append(await target.send(thread))
    return MemoryResult(worker.max_cached, sessions, baseline, after, cold, warm)


async def cold_turns(target: Target, history_turns: int, sessions: int) -> tuple[Latency, Latency]:
    """Cold vs warm turns of conversations with ``history_turns`` earlier messages.

    Run against a worker whose cache holds 2 workflows: each conversation is built
    warm (its turns back to back), then one more message per conversation round-robin
    finds it evicted and replays its whole history first. The last build turn of each
    conversation is the warm comparison, with the same history length.
    """
    threads = [target.new_session() for _ in range(sessions)]
    warm = Latency()
    for thread in threads:
        for _ in range(history_turns):
            took = await target.send(thread)
        warm.samples.append(took)
    cold = Latency()
    for thread in threads:
        cold.samples.append(await target.send(thread))
    return cold, warm
