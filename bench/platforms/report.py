"""The platform-path table: each path beside the floor measured in the same rounds."""

from __future__ import annotations

import statistics

from bench.platforms.scenarios import PathResult
from bench.report import merged, table

START = "<!-- bench:platforms:start -->"
END = "<!-- bench:platforms:end -->"
HEADER = ["path", "process shape", "metric", "floor (echo)", "threadwork", "ratio", "ratio per round", "goal", "met"]
CPU_HEADER = ["path", "process shape", "floor worker CPU-s / 1,000 msgs", "threadwork CPU-s / 1,000 msgs (by process)"]
LATENCY_GOAL = 1.5
#: (label, PathResult attribute, until what, judged against the goal). The goal applies to the first
#: text: a streamed reply's whole time includes its deliberate pace (docs/performance.md).
LATENCY_ROWS = (
    ("new thread", "new_first", "first text", True),
    ("new thread", "new", "whole reply", False),
    ("follow-up", "follow_up_first", "first text", True),
    ("follow-up", "follow_up", "whole reply", False),
)
BURST_GOAL = 0.6


def _ms(value: float) -> str:
    return f"{value:.0f}" if value >= 100 else f"{value:.1f}"


def _spread(ratios: list[float]) -> str:
    return f"{min(ratios):.2f}-{max(ratios):.2f}" if len(ratios) > 1 else "1 round"


def rows(path: str, shape: str, floor: PathResult, tw: PathResult) -> list[list[str]]:
    out = []
    for label, attr, until, has_goal in LATENCY_ROWS:
        f_rounds, t_rounds = getattr(floor, attr), getattr(tw, attr)
        for q, pick in ((50, lambda lat: lat.p50_ms), (99, lambda lat: lat.p99_ms)):
            f, t = pick(merged(f_rounds)), pick(merged(t_rounds))
            per_round = [pick(b) / pick(a) for a, b in zip(f_rounds, t_rounds, strict=True)]
            judged = q == 50 and has_goal
            goal = f"<= {LATENCY_GOAL}x" if judged else "-"
            met = ("yes" if t / f <= LATENCY_GOAL else "NO") if judged else "-"
            out.append(
                [
                    path,
                    shape,
                    f"{label} latency to {until} p{q} (ms)",
                    _ms(f),
                    _ms(t),
                    f"{t / f:.2f}x",
                    _spread(per_round),
                    goal,
                    met,
                ]
            )
    f, t = statistics.median(floor.burst), statistics.median(tw.burst)
    per_round = [b / a for a, b in zip(floor.burst, tw.burst, strict=True)]
    out.append(
        [
            path,
            shape,
            "burst throughput (msg/s, median of rounds)",
            f"{f:.1f}",
            f"{t:.1f}",
            f"{t / f:.2f}x",
            _spread(per_round),
            f">= {BURST_GOAL}x",
            "yes" if t / f >= BURST_GOAL else "NO",
        ]
    )
    return out


def cpu_row(path: str, shape: str, floor: PathResult, tw: PathResult) -> list[str]:
    floor_cpu = statistics.median(floor.cpu.get("worker", [0.0]))
    parts = [f"{role} {statistics.median(values):.1f}" for role, values in tw.cpu.items()]
    return [path, shape, f"{floor_cpu:.1f}", ", ".join(parts)]


def render(results: dict[tuple[str, str], tuple[PathResult, PathResult]]) -> str:
    main = [r for (path, shape), (f, t) in results.items() for r in rows(path, shape, f, t)]
    cpu = [cpu_row(path, shape, f, t) for (path, shape), (f, t) in results.items()]
    return (
        table(HEADER, main)
        + "\n\nCPU per message during the burst (user + system CPU of each process; `dev` is gateway and worker in one)\n\n"
        + table(CPU_HEADER, cpu)
    )
