"""The Slack and Teams paths end to end, beside the raw Temporal floor, in both process shapes.

    .venv/bin/python -m bench.platforms            # full run, writes docs/performance.md
    .venv/bin/python -m bench.platforms --quick    # smoke run, prints the table only

Slack: signed Events API requests to the gateway, the reply timed until the local fake
Slack Web API shows its first text and until it holds the whole reply (`chat.postMessage`, or
a stream's `chat.stopStream`). Teams: activities in anonymous mode, the reply timed until the
local fake Bot Connector shows its first text and until it receives the reply's message. The floor (bench.echo: update-with-start
plus one local activity) runs in the same rounds on the same dev server, so each ratio
compares like with like under whatever else the machine is doing.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import os
import sys
import tempfile
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from aiohttp import web

from bench import report as bench_report
from bench.devserver import dev_server
from bench.platforms import report, scenarios
from bench.platforms.fakes import BenchConnector, BenchSlack
from bench.platforms.processes import CACHED_WORKFLOWS, SHAPES, Deployment
from bench.platforms.senders import FloorSender, PathSender, SlackSender, TeamsSender
from bench.report import say
from bench.targets import Target
from bench.workers import WorkerProcess

ROOT = Path(__file__).resolve().parents[2]
PATHS = ("slack", "teams")


@dataclass
class Plan:
    rounds: int
    new_n: int
    follow_n: int
    senders: int
    threads: int
    messages: int


#: A burst round of 600 messages lasts 4-8 s here: long enough that the start and end of a burst
#: (senders not yet all busy, the last replies trickling in) no longer swing its rate, as they
#: did with 200 (ratios per round 0.51-0.67 in one run), and each open thread continues as new
#: at least once in it, as a busy conversation does.
FULL = Plan(rounds=3, new_n=40, follow_n=60, senders=20, threads=50, messages=600)
QUICK = Plan(rounds=1, new_n=3, follow_n=3, senders=3, threads=3, messages=6)


async def measure(path: PathSender, plan: Plan, result: scenarios.PathResult, cpu_of) -> None:
    first, whole = await scenarios.new_threads(path, plan.new_n)
    result.new_first.append(first)
    result.new.append(whole)
    first, whole = await scenarios.follow_ups(path, plan.follow_n)
    result.follow_up_first.append(first)
    result.follow_up.append(whole)
    opened = await scenarios.open_threads(path, plan.threads)
    before = cpu_of()  # the burst's messages only, not the opening of its threads
    result.burst.append(await scenarios.burst(path, plan.senders, opened, plan.messages))
    after = cpu_of()
    for role, seconds in after.items():
        result.cpu.setdefault(role, []).append((seconds - before[role]) * 1000 / plan.messages)


async def serve_fakes() -> tuple[BenchSlack, BenchConnector, web.AppRunner]:
    slack = BenchSlack()
    await slack.start()
    connector = BenchConnector()
    runner = web.AppRunner(connector.app(), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    connector.url = f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}/"  # type: ignore[union-attr]
    return slack, connector, runner


async def run(plan: Plan, shapes: list[str], paths: list[str]) -> dict:
    results: dict[tuple[str, str], tuple[scenarios.PathResult, scenarios.PathResult]] = {}
    slack, connector, connector_runner = await serve_fakes()
    try:
        async with dev_server() as address:
            with tempfile.TemporaryDirectory(prefix="threadwork-bench-platforms-") as tmp:
                await measure_shapes(plan, shapes, paths, address, Path(tmp), slack, connector, results)
    finally:
        await slack.stop()
        await connector_runner.cleanup()
    return results


async def measure_shapes(
    plan: Plan,
    shapes: list[str],
    paths: list[str],
    address: str,
    tmp: Path,
    slack: BenchSlack,
    connector: BenchConnector,
    results: dict,
) -> None:
    """Each shape's processes in turn; each path's rounds alternate it with the floor.

    The floor's worker starts afresh for each path, threadwork's processes for each shape; both
    warm up first. (Both share the one dev server: after a section in which threadwork's
    sessions continued-as-new every 6 turns, the server started the floor's new conversations in
    about 45 ms instead of 20, whichever worker served them; docs/performance.md.)
    """
    for shape in shapes:
        deployment = Deployment(shape, address, f"tw-{uuid.uuid4().hex[:6]}", tmp, slack.api_url)
        say(f"starting threadwork ({shape})")
        deployment.start()
        try:
            senders = {"slack": SlackSender(slack, deployment.url), "teams": TeamsSender(connector, deployment.url)}
            for name in paths:
                sender = senders[name]
                await scenarios.follow_ups(sender, 5, threads=2)  # warm-up, not recorded
                echo = WorkerProcess("echo", address, f"echo-{uuid.uuid4().hex[:6]}", CACHED_WORKFLOWS, tmp)
                echo.start()
                try:
                    floor = FloorSender(await Target.connect("echo", address, echo.task_queue))
                    await scenarios.follow_ups(floor, 5, threads=2)  # warm-up, not recorded
                    pair = results[(name, shape)] = (scenarios.PathResult(), scenarios.PathResult())
                    for r in range(plan.rounds):
                        say(f"{name} ({shape}): round {r + 1}/{plan.rounds}")
                        sides = [
                            (floor, pair[0], lambda w=echo: {"worker": w.cpu_seconds()}),
                            (sender, pair[1], deployment.cpu_seconds),
                        ]
                        for path, result, cpu_of in sides if r % 2 == 0 else reversed(sides):
                            await measure(path, plan, result, cpu_of)
                finally:
                    echo.stop()
            for sender in senders.values():
                await sender.close()
        finally:
            deployment.stop()


def parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.platforms", description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="a smoke run: few samples, table only")
    p.add_argument("--rounds", type=int, help="alternating rounds per path (default 3)")
    p.add_argument("--burst", type=int, metavar="N", help="messages per burst round (default 600)")
    p.add_argument("--shapes", help=f"comma-separated subset of: {', '.join(SHAPES)}")
    p.add_argument("--paths", help=f"comma-separated subset of: {', '.join(PATHS)}")
    p.add_argument("--docs", type=Path, help="write results here (default docs/performance.md; --quick: none)")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    plan = dataclasses.replace(QUICK if args.quick else FULL)
    if args.rounds:
        plan.rounds = args.rounds
    if args.burst:
        plan.messages = args.burst
    shapes, bad_shapes = bench_report.chosen(args.shapes, SHAPES)
    paths, bad_paths = bench_report.chosen(args.paths, PATHS)
    if bad_shapes or bad_paths:
        print(f"error: unknown shape or path {', '.join(bad_shapes + bad_paths)}", file=sys.stderr)
        return 2
    docs = args.docs or (None if args.quick else ROOT / "docs" / "performance.md")
    started, load_before = datetime.now(UTC), os.getloadavg()
    results = asyncio.run(run(plan, shapes, paths))
    bench_report.publish(
        "bench.platforms", argv, started, load_before, report.render(results), docs, report.START, report.END
    )
    return 0


if __name__ == "__main__":
    bench_report.exit_now(main())
