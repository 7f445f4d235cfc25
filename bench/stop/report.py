"""The Stop table: per platform and process shape, press-to-stopped-message figures against the 2 s goal."""

from __future__ import annotations

from bench.report import table
from bench.scenarios import percentile

START = "<!-- bench:stop:start -->"
END = "<!-- bench:stop:end -->"
GOAL_SECONDS = 2.0
HEADER = ["platform", "process shape", "Stops", "p50 (ms)", "p99 (ms)", "max (ms)", "goal", "met (max)"]


def row(platform: str, shape: str, seconds: list[float]) -> list[str]:
    worst = max(seconds)
    return [
        platform,
        shape,
        str(len(seconds)),
        f"{percentile(seconds, 50) * 1000:.0f}",
        f"{percentile(seconds, 99) * 1000:.0f}",
        f"{worst * 1000:.0f}",
        f"<= {GOAL_SECONDS * 1000:.0f} ms",
        "yes" if worst <= GOAL_SECONDS else "NO",
    ]


def render(results: dict[tuple[str, str], list[float]]) -> str:
    return table(HEADER, [row(platform, shape, seconds) for (platform, shape), seconds in results.items()])
