"""CPU of one Teams post, in process: TeamsPlatform.post against the fake Bot Connector on loopback.

    .venv/bin/python -m bench.platforms.teams_post              # 3 rounds of 2,000 posts each way
    .venv/bin/python -m bench.platforms.teams_post --quick      # smoke run (the test suite)

Posts one after another into one group chat, each answering a message of its own (the stored
reference a session hands a post is its last inbound message's: a new activity id, and one of a
few members as the sender), and reads the process's CPU (all threads, so a
sender's thread counts; the fake connector's share is in both rows alike). Two senders, in
alternating rounds: the workers' (adapters/teams/connector_http.py) and botframework's default
pipeline (msrest sending through `requests` on the default executor), put back in this process
only. The burst in `python -m bench.platforms` is too noisy on 2 shared cores to show a
difference of about a millisecond per message; this isolates it.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import adapters.teams.connector_cache as connector_cache
from tests.teams.fake_connector import start_connector
from tests.teams.streaming_support import conversation, teams_platform
from workflows.contracts import Reply

#: Members taking turns in the bench's group chat.
MEMBERS = 5
SENDERS = ("aiohttp (threadwork)", "requests (botframework default)")
WARM_UP = 100


def answering(context: dict[str, Any], i: int) -> dict[str, Any]:
    """The reply context after the chat's message ``i``, as the gateway stores it per inbound message."""
    member = i % MEMBERS
    return dict(context, activityId=f"message-{i}", user={"id": f"29:member-{member}", "name": f"Member {member}"})


async def cpu_ms_per_post(sender: str, posts: int) -> float:
    install = connector_cache.aiohttp_pipeline
    if sender.startswith("requests"):
        connector_cache.aiohttp_pipeline = lambda config, sessions: config.pipeline  # type: ignore[assignment]
    fake, runner = await start_connector()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            key, context = conversation(fake, "a:bench-post", "groupChat")
            async with teams_platform(fake, Path(tmp)) as platform:
                for i in range(WARM_UP):
                    await platform.post(
                        key, Reply(text=f"warm-up {i}"), idempotency_key=f"w{i}", context=answering(context, i)
                    )
                start = time.process_time()
                for i in range(posts):
                    reply = Reply(text=f"reply {i}: a few words, as the built-in responder writes them")
                    await platform.post(key, reply, idempotency_key=f"p{i}", context=answering(context, i))
                return (time.process_time() - start) * 1000 / posts
    finally:
        connector_cache.aiohttp_pipeline = install
        await runner.cleanup()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one round of 50 posts each way")
    parser.add_argument("--posts", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    posts, rounds = (50, 1) if args.quick else (args.posts, args.rounds)
    results: dict[str, list[float]] = {sender: [] for sender in SENDERS}
    for _ in range(rounds):
        for sender in SENDERS:
            results[sender].append(await cpu_ms_per_post(sender, posts))
    print(f"{posts} posts per round, {rounds} round(s)\n")
    print("| sender | CPU-ms per post, median | per round |")
    print("| --- | --- | --- |")
    for sender, values in results.items():
        spread = ", ".join(f"{v:.2f}" for v in values)
        print(f"| {sender} | {statistics.median(values):.2f} | {spread} |")


if __name__ == "__main__":
    asyncio.run(main())
