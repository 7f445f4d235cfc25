"""The benchmark runs end to end in --quick mode and produces every row (timings are not checked)."""

from __future__ import annotations

import asyncio
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

MAIN_ROWS = [
    "reply latency, new session, p50 (ms)",
    "reply latency, new session, p99 (ms)",
    "reply latency, existing session, p50 (ms)",
    "reply latency, existing session, p99 (ms)",
    "burst throughput, 20 senders (msg/s, median of rounds)",
    "worker RSS per 1,000 active sessions, cache 10 (MB)",
]
#: A measured number. Memory growth over a quick run can be negative (the garbage collector
#: returned more than the sessions took), so a sign is allowed: the test checks the table, not the numbers.
NUMBER = re.compile(r"^-?\d+(\.\d+)?$")


def rows_of(text: str, first_cell: str) -> list[list[str]]:
    rows = []
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("|") and cells[0] == first_cell:
            rows.append(cells)
    return rows


async def run_quick(module: str, docs: Path, heading: str, bound: float) -> str:
    """``python -m MODULE --quick --docs DOCS`` (DOCS starts with prose the bench must keep): its table.

    ``bound`` only stops a hung run: busy CI hosts are slow, and a test is no benchmark."""
    await asyncio.to_thread(docs.write_text, f"{heading}\n\nProse that the bench must keep.\n")
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        module,
        "--quick",
        "--docs",
        str(docs),
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), bound)
    assert proc.returncode == 0, err.decode()[-3000:]
    return out.decode()


async def test_quick_bench_prints_every_row_and_writes_the_docs(tmp_path: Path) -> None:
    docs = tmp_path / "performance.md"
    table = await run_quick("bench.run", docs, "# Performance", 600)

    for label in MAIN_ROWS:
        (row,) = rows_of(table, label)
        floor, threadwork, ratio = row[1], row[2], row[3]
        assert NUMBER.match(floor) and NUMBER.match(threadwork), row
        assert ratio.endswith("x") and row[6] in ("yes", "NO"), row
    for side in ("echo", "threadwork"):
        # cache trade-off row, cold-turn row, history profile row
        assert len(rows_of(table, side)) == 3, table
    assert "command: `python -m bench.run --quick" in table

    written = docs.read_text()
    assert "Prose that the bench must keep." in written
    assert "<!-- bench:results:start -->" in written and "<!-- bench:results:end -->" in written
    assert all(label in written for label in MAIN_ROWS)


PLATFORM_METRICS = [
    *(
        f"{kind} latency to {until} p{q} (ms)"
        for kind in ("new thread", "follow-up")
        for until in ("first text", "whole reply")
        for q in (50, 99)
    ),
    "burst throughput (msg/s, median of rounds)",
]


async def test_quick_platform_bench_prints_every_path_in_both_shapes(tmp_path: Path) -> None:
    docs = tmp_path / "performance.md"
    table = await run_quick("bench.platforms", docs, "# Performance", 900)
    for path in ("slack", "teams"):
        rows = rows_of(table, path)
        for shape in ("one process", "gateway + worker"):
            shaped = {r[2]: r for r in rows if r[1] == shape}
            for metric in PLATFORM_METRICS:
                row = shaped[metric]
                assert NUMBER.match(row[3]) and NUMBER.match(row[4]) and row[5].endswith("x"), row
            cpu = [r for r in rows if r[1] == shape and len(r) == 4]
            assert len(cpu) == 1 and NUMBER.match(cpu[0][2]), cpu
    written = docs.read_text()
    assert "Prose that the bench must keep." in written
    assert "<!-- bench:platforms:start -->" in written and "command: `python -m bench.platforms --quick" in written


STOP_PLATFORMS = ("web chat", "slack", "teams")


async def test_quick_stop_bench_prints_every_platform_in_both_shapes(tmp_path: Path) -> None:
    docs = tmp_path / "assistant.md"
    table = await run_quick("bench.stop", docs, "# The assistant", 900)
    for platform in STOP_PLATFORMS:
        rows = {r[1]: r for r in rows_of(table, platform)}
        assert set(rows) == {"one process", "gateway + worker"}, table
        for row in rows.values():
            # Stops, p50, p99, max; the goal; met is yes or NO (the figures are not checked: a test is no benchmark).
            assert row[2] == "2" and all(NUMBER.match(cell) for cell in row[3:6]), row
            assert row[6] == "<= 2000 ms" and row[7] in ("yes", "NO"), row
    written = docs.read_text()
    assert "Prose that the bench must keep." in written
    assert "<!-- bench:stop:start -->" in written and "<!-- bench:stop:end -->" in written
    assert "command: `python -m bench.stop --quick" in written


async def test_quick_teams_post_bench_prints_both_senders() -> None:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bench.platforms.teams_post",
        "--quick",
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await asyncio.wait_for(proc.communicate(), 300)
    text = out.decode()
    assert proc.returncode == 0, text
    for sender in ("aiohttp (threadwork)", "requests (botframework default)"):
        [row] = rows_of(text, sender)
        assert NUMBER.match(row[1]) and NUMBER.match(row[2]), row
