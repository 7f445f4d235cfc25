"""What is measured on each path: new-thread and follow-up latency, and a burst."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

from bench.platforms.senders import PathSender
from bench.scenarios import Latency


@dataclass
class PathResult:
    """One path (or the floor) over all rounds."""

    new: list[Latency] = field(default_factory=list)  # until the whole reply is there
    follow_up: list[Latency] = field(default_factory=list)
    new_first: list[Latency] = field(default_factory=list)  # until its first text shows
    follow_up_first: list[Latency] = field(default_factory=list)
    burst: list[float] = field(default_factory=list)  # msg/s per round
    cpu: dict[str, list[float]] = field(default_factory=dict)  # role -> CPU-s per 1,000 messages, per round


async def new_threads(path: PathSender, n: int) -> tuple[Latency, Latency]:
    """(first text, whole reply) of ``n`` new threads, one after another."""
    first, whole = Latency(), Latency()
    for i in range(n):
        timing = (await path.new_thread(i))[1]
        first.samples.append(timing.first_text)
        whole.samples.append(timing.whole)
    return first, whole


async def follow_ups(path: PathSender, n: int, threads: int = 5) -> tuple[Latency, Latency]:
    """One sender, messages round-robin into a few open (cached, known) threads: (first text, whole reply)."""
    opened = [(await path.new_thread(i))[0] for i in range(threads)]
    first, whole = Latency(), Latency()
    for i in range(n):
        timing = await path.follow_up(opened[i % threads], i)
        first.samples.append(timing.first_text)
        whole.samples.append(timing.whole)
    return first, whole


async def open_threads(path: PathSender, threads: int) -> list[str]:
    """Open ``threads`` conversations for a burst (not part of what the burst measures)."""
    return [(await path.new_thread(i))[0] for i in range(threads)]


async def burst(path: PathSender, senders: int, opened: list[str], messages: int) -> float:
    """``messages`` follow-ups from ``senders`` at once into the ``opened`` threads; msg/s.

    Each sender owns its threads (one reply awaited at a time per thread) and sends its
    share one after another, waiting for each reply, as people in a busy channel do.
    """
    owned = [opened[i::senders] or [opened[i % len(opened)]] for i in range(senders)]
    share = [messages // senders + (1 if i < messages % senders else 0) for i in range(senders)]

    async def sender(i: int) -> None:
        for k in range(share[i]):
            await path.follow_up(owned[i][k % len(owned[i])], i)

    started = time.perf_counter()
    await asyncio.gather(*(sender(i) for i in range(senders)))
    return messages / (time.perf_counter() - started)
