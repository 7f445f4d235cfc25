"""Fault case 5: follow-ups typed right after a mention are answered, each once (issue 9).

40 threads, each a mention plus 2 immediate thread replies without a mention, from 20
concurrent senders, through the real gateway with signed requests against the fake Slack
Web API. Each thread's three events (plus the mention's ``message`` twin) are sent at
once, so a follow-up often reaches the gateway before the mention's listener ran: the
adapter must decide from the thread (conversations.replies), not from timing.
Figures: docs/reliability.md, "Slack thread race".
"""

from __future__ import annotations

import asyncio
import json

import pytest

from tests.slack.conftest import fake_slack, slack, slack_stack  # noqa: F401 (fixtures used here)
from tests.slack.fake_slack import BOT_USER, FakeSlack
from tests.slack.support import SlackSim, new_ts

pytestmark = pytest.mark.timeout(240)

THREADS = 40
SENDERS = 20
FOLLOW_UPS = 2
ANSWER_TIMEOUT = 180  # seconds for all answers, on a shared 2-core machine
SETTLE = 1.0  # time for a wrongly duplicated answer to show up


def thread_events(sim: SlackSim, channel: str, user: str) -> tuple[str, list[dict]]:
    """A mention (app_mention + its message twin) and the follow-ups, ts in Slack's order."""
    root = new_ts()
    text = f"<@{BOT_USER}> please look at this"
    events = [sim.message(channel, user, text, ts=root, kind="app_mention"), sim.message(channel, user, text, ts=root)]
    events += [
        sim.message(channel, user, f"and one more thing ({n})", thread_ts=root) for n in range(1, FOLLOW_UPS + 1)
    ]
    return root, events


async def send_all_at_once(sim: SlackSim, events: list[dict], *, retries: bool = False) -> None:
    for event in events:
        sim.fake.record(event)  # Slack stores every message before sending any of the events
    sends = [sim.event(e) for e in events]
    if retries:  # Slack's retry of each follow-up (X-Slack-Retry-Num), racing the original
        sends += [sim.event(e, retry_num=1) for e in events if e.get("thread_ts")]
    for resp in await asyncio.gather(*sends):
        assert resp.status_code == 200, resp.text


def answers(fake: FakeSlack, channel: str, roots: list[str]) -> dict[str, list[str]]:
    return {root: [m["text"] for m in fake.posts(channel, root)] for root in roots}


async def wait_answered(fake: FakeSlack, channel: str, roots: list[str], per_thread: int) -> None:
    expected = len(roots) * per_thread
    await fake.wait_for(
        lambda: sum(len(v) for v in answers(fake, channel, roots).values()) >= expected,
        timeout=ANSWER_TIMEOUT,
        what=f"{expected} answers",
    )


def assert_each_answered_once(fake: FakeSlack, channel: str, roots: list[str], per_thread: int) -> int:
    """Every thread has exactly one answer per message: 'message 1' .. 'message n', no repeats."""
    got = answers(fake, channel, roots)
    for root, texts in got.items():
        numbers = sorted(int(t.split("message ")[1].split(" ")[0]) for t in texts)
        assert numbers == list(range(1, per_thread + 1)), f"thread {root}: {texts}"
    return sum(len(v) for v in got.values())


async def test_forty_threads_mention_plus_two_immediate_follow_ups_all_answered_once(client, tmp_path, fake_slack):
    for n in range(SENDERS):
        fake_slack.add_user(f"USENDER{n:02d}", f"Sender {n}")
    async with slack_stack(client, tmp_path, fake_slack) as (stack, sim):
        threads = [thread_events(sim, "C1", f"USENDER{n % SENDERS:02d}") for n in range(THREADS)]
        roots = [root for root, _ in threads]

        async def sender(mine: list[list[dict]]) -> None:  # one person, their threads one after another
            for events in mine:
                await send_all_at_once(sim, events)

        await asyncio.gather(
            *(sender([e for i, (_, e) in enumerate(threads) if i % SENDERS == s]) for s in range(SENDERS))
        )
        per_thread = 1 + FOLLOW_UPS
        await wait_answered(fake_slack, "C1", roots, per_thread)
        await asyncio.sleep(SETTLE)
        answered = assert_each_answered_once(fake_slack, "C1", roots, per_thread)
        assert answered == THREADS * per_thread == 120
        for root in roots[:3]:
            assert (await stack.state(f"slack:T1:C1:{root}"))["message_count"] == per_thread
        lookups = len(fake_slack.calls_to("conversations.replies"))
        # At most one lookup per follow-up that overtook its mention; never more.
        assert lookups <= THREADS * FOLLOW_UPS
        print(f"\nslack thread race: answered {answered}/120 once each, conversations.replies calls: {lookups}")


async def test_follow_ups_racing_their_own_retries_are_answered_once(slack):
    _stack, sim = slack
    roots = []
    for _ in range(10):
        root, events = thread_events(sim, "C1", "UALICE")
        roots.append(root)
        await send_all_at_once(sim, events, retries=True)
    await wait_answered(sim.fake, "C1", roots, 3)
    await asyncio.sleep(SETTLE)
    assert assert_each_answered_once(sim.fake, "C1", roots, 3) == 30


async def test_socket_mode_follow_ups_are_answered_once(client, tmp_path, fake_slack):
    async with slack_stack(client, tmp_path, fake_slack, slack_app_token="xapp-1-test") as (_stack, sim):
        await fake_slack.wait_for(lambda: fake_slack.sockets, what="the Socket Mode connection")
        roots = []
        for n in range(10):
            root, events = thread_events(sim, "C1", "UBOB")
            roots.append(root)
            await asyncio.gather(
                *(
                    fake_slack.send_envelope("events_api", json.loads(sim.envelope(e)), f"env-{n}-{i}")
                    for i, e in enumerate(events)
                )
            )
        await wait_answered(fake_slack, "C1", roots, 3)
        await asyncio.sleep(SETTLE)
        assert assert_each_answered_once(fake_slack, "C1", roots, 3) == 30


async def test_busy_channel_of_unrelated_threads_costs_a_bounded_number_of_lookups(slack):
    """20 threads nobody mentions the bot in, 10 messages each as they are typed: no answers,
    and one conversations.replies per thread for the first message; the rest are either covered
    by that answer or wait for the thread's next lookup (at most one per interval)."""
    stack, sim = slack
    membership = stack.platforms.adapters["slack"].routes.bot.threads
    membership.min_interval = 3600  # within the test, each thread's later messages wait for the next lookup
    threads, per_thread = 20, 10
    roots = [new_ts() for _ in range(threads)]
    for root in roots:
        sim.fake.record(sim.message("C1", "UALICE", "a channel message the bot is not part of", ts=root))

    async def chatter(root: str) -> None:
        for n in range(per_thread):
            resp = await sim.event(sim.message("C1", "UBOB", f"chatting ({n})", thread_ts=root))
            assert resp.status_code == 200

    await asyncio.gather(*(chatter(r) for r in roots))
    await sim.fake.wait_for(
        lambda: len(sim.fake.calls_to("conversations.replies")) >= threads, what="the first lookups"
    )
    await asyncio.sleep(SETTLE)
    assert len(sim.fake.calls_to("conversations.replies")) == threads  # not threads * per_thread
    assert sim.fake.posts("C1") == []

    # The bot is then mentioned in one of those threads: messages from then on are answered at once,
    # without waiting for the thread's next lookup and without another call.
    busy = roots[0]
    mention = sim.message("C1", "UALICE", f"<@{BOT_USER}> can you summarise?", thread_ts=busy, kind="app_mention")
    assert (await sim.event(mention)).status_code == 200
    follow = sim.message("C1", "UALICE", "thanks", thread_ts=busy)
    assert (await sim.event(follow)).status_code == 200
    await sim.fake.wait_for(
        lambda: len(sim.fake.posts("C1", busy)) >= 2, what="answers to the mention and its follow-up"
    )
    await asyncio.sleep(SETTLE)
    assert len(sim.fake.posts("C1", busy)) == 2
    assert len(sim.fake.calls_to("conversations.replies")) == threads


async def test_follow_ups_that_arrive_before_their_mention_are_answered_once(slack):
    """Slack's first delivery of the mention failed and its retry comes later: the follow-ups
    reach the gateway first, when no session exists yet; the thread itself says they belong."""
    _stack, sim = slack
    roots = []
    for _ in range(10):
        root, events = thread_events(sim, "C1", "UALICE")
        roots.append(root)
        for event in events:
            sim.fake.record(event)
        follow_ups = [e for e in events if e.get("thread_ts")]
        await send_all_at_once(sim, follow_ups)
        await sim.fake.wait_for(
            lambda: len(sim.fake.posts("C1", root)) >= FOLLOW_UPS,  # noqa: B023 - awaited within this iteration
            what="the follow-ups' answers",
        )
        mention = [e for e in events if not e.get("thread_ts")]
        await send_all_at_once(sim, mention)
        for event in mention:  # and Slack's retry of it
            assert (await sim.event(event, retry_num=1)).status_code == 200
    await wait_answered(sim.fake, "C1", roots, 3)
    await asyncio.sleep(SETTLE)
    assert assert_each_answered_once(sim.fake, "C1", roots, 3) == 30
    assert len(sim.fake.calls_to("conversations.replies")) <= 10 * FOLLOW_UPS
