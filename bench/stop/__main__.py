"""How fast Stop ends a streamed turn on each platform, in both process shapes.

    .venv/bin/python -m bench.stop            # full run, writes docs/assistant.md
    .venv/bin/python -m bench.stop --quick    # smoke run, prints the table only

A local OpenAI-compatible fake streams a long answer (100 ms between chunks, the issue's
cadence, far longer than any Stop takes); each round opens a conversation per platform,
waits until a few words show, presses Stop and times until the platform holds the final
message with the text so far and the stopped note: the web chat's Stop button (its event
stream), Slack's agent_session_stopped (a signed event; the fake Slack Web API) and the
Teams stop (the fake Bot Connector cancels the stream). Rounds alternate the platforms, one
Stop at a time, after one unrecorded warm-up round.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from bench import report as bench_report
from bench.devserver import dev_server
from bench.platforms.processes import SHAPES, Deployment
from bench.report import say
from bench.stop import report
from bench.stop.fakes import StopConnector, StopSlack
from bench.stop.paths import SlackStop, StopPath, TeamsStop, WebChatStop
from tests.fake_openai import FakeOpenAI, fake_openai

ROOT = Path(__file__).resolve().parents[2]
PLATFORMS = ("web chat", "slack", "teams")
#: The fake model's answer: 200 chunks 100 ms apart (20 s), so only Stop ends it in a round.
CHUNKS = 200
CHUNK_DELAY = 0.1
ANSWER = " ".join(f"word{n:03d}" for n in range(CHUNKS))


@dataclass
class Plan:
    rounds: int
    warm_up: int = 1


FULL = Plan(rounds=25)
QUICK = Plan(rounds=2)


class StopDeployment(Deployment):
    """A bench Deployment whose processes talk to the fake model, with Slack's agent mode and an open web chat."""

    def __init__(self, shape: str, address: str, data_dir: Path, slack_api_url: str, llm_url: str) -> None:
        super().__init__(shape, address, f"stop-{uuid.uuid4().hex[:6]}", data_dir, slack_api_url)
        extra = {
            "THREADWORK_LLM_BASE_URL": llm_url,
            "THREADWORK_SLACK_AGENT": "true",
            "THREADWORK_WEBCHAT_AUTH": "open",
        }
        for process in self.processes:
            process.env = {**process.env, **extra}


async def paths_of(deployment: Deployment, slack: StopSlack, connector: StopConnector) -> dict[str, StopPath]:
    webchat = WebChatStop(deployment.url)
    await webchat.start()
    return {
        "web chat": webchat,
        "slack": SlackStop(slack, deployment.url),
        "teams": TeamsStop(connector, deployment.url),
    }


async def measure_shape(
    plan: Plan,
    shape: str,
    platforms: list[str],
    paths: dict[str, StopPath],
    results: dict[tuple[str, str], list[float]],
) -> None:
    for name in platforms:
        results[(name, shape)] = []
    for r in range(plan.warm_up + plan.rounds):
        recorded = r >= plan.warm_up
        say(f"{shape}: {'round' if recorded else 'warm-up'} {r - plan.warm_up + 1 if recorded else r + 1}")
        order = platforms if r % 2 == 0 else list(reversed(platforms))
        for name in order:
            seconds = await paths[name].once()
            if recorded:
                results[(name, shape)].append(seconds)


async def run(plan: Plan, shapes: list[str], platforms: list[str]) -> dict[tuple[str, str], list[float]]:
    results: dict[tuple[str, str], list[float]] = {}
    slack, connector = StopSlack(), StopConnector()
    await slack.start()
    await connector.start()
    try:
        async with fake_openai() as llm, dev_server() as address:
            slow(llm)
            with tempfile.TemporaryDirectory(prefix="threadwork-bench-stop-") as tmp:
                for shape in shapes:
                    deployment = StopDeployment(shape, address, Path(tmp), slack.api_url, llm.base_url)
                    say(f"starting threadwork ({shape})")
                    deployment.start()
                    try:
                        paths = await paths_of(deployment, slack, connector)
                        try:
                            await measure_shape(plan, shape, platforms, paths, results)
                        finally:
                            for path in paths.values():
                                await path.close()
                    finally:
                        deployment.stop()
    finally:
        await slack.stop()
        await connector.stop()
    return results


def slow(llm: FakeOpenAI) -> None:
    llm.answer = ANSWER
    llm.stream_chunks = CHUNKS
    llm.chunk_delay = CHUNK_DELAY


def parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.stop", description=(__doc__ or "").split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="a smoke run: 2 rounds, table only")
    p.add_argument("--rounds", type=int, help=f"recorded Stops per platform and shape (default {FULL.rounds})")
    p.add_argument("--shapes", help=f"comma-separated subset of: {', '.join(SHAPES)}")
    p.add_argument("--platforms", help=f"comma-separated subset of: {', '.join(PLATFORMS)}")
    p.add_argument("--docs", type=Path, help="write results here (default docs/assistant.md; --quick: none)")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    plan = Plan(rounds=(QUICK if args.quick else FULL).rounds)
    if args.rounds:
        plan.rounds = args.rounds
    shapes, bad_shapes = bench_report.chosen(args.shapes, SHAPES)
    platforms, bad_platforms = bench_report.chosen(args.platforms, PLATFORMS)
    if bad_shapes or bad_platforms:
        print(f"error: unknown shape or platform {', '.join(bad_shapes + bad_platforms)}", file=sys.stderr)
        return 2
    docs = args.docs or (None if args.quick else ROOT / "docs" / "assistant.md")
    started, load_before = datetime.now(UTC), os.getloadavg()
    results = asyncio.run(run(plan, shapes, platforms))
    bench_report.publish(
        "bench.stop", argv, started, load_before, report.render(results), docs, report.START, report.END
    )
    return 0


if __name__ == "__main__":
    bench_report.exit_now(main())
