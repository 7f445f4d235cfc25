"""ThreadMembership against the fake Slack Web API (real HTTP, real slack_sdk client): which
thread replies without a mention belong to a session, and what that costs in lookups."""

from __future__ import annotations

import asyncio
import logging

import pytest
from slack_sdk.errors import SlackApiError

from adapters.slack.client import make_client
from adapters.slack.platform import METADATA_EVENT
from adapters.slack.thread_membership import BotIdentity, ThreadMembership
from tests.slack.fake_slack import BOT_ID, BOT_TOKEN, BOT_USER, TEAM, FakeSlack
from tests.slack.support import SlackSim, new_ts

BOUND = 10  # seconds any single decision may take here


def say(
    fake: FakeSlack, text: str, *, thread_ts: str | None = None, user: str = "UALICE", channel: str = "C1", **extra
) -> str:
    event = SlackSim.message(channel, user, text, thread_ts=thread_ts, **extra)
    fake.record(event)
    return event["ts"]


async def no_session() -> bool:
    return False


async def a_session() -> bool:
    return True


@pytest.fixture
def web(fake_slack):
    return make_client(fake_slack.api_url, BOT_TOKEN)


def decide(threads: ThreadMembership, web, root: str, ts: str, session_exists=no_session):
    bot = BotIdentity(BOT_USER, BOT_ID, session_id(root))
    return asyncio.wait_for(threads.belongs((TEAM, "C1", root), ts, web, bot, session_exists), BOUND)


def session_id(root: str) -> str:
    return f"slack:{TEAM}:C1:{root}"


def keyed(workflow_id: str) -> dict:
    """The metadata SlackPlatform.post puts on every part it posts."""
    return {"event_type": METADATA_EVENT, "event_payload": {"key": f"{workflow_id}#run-1#1#0"}}


def lookups(fake: FakeSlack) -> int:
    return len(fake.calls_to("conversations.replies"))


async def test_reply_under_a_mention_belongs_after_one_lookup_and_later_replies_cost_none(fake_slack, web):
    threads = ThreadMembership()
    root = say(fake_slack, f"<@{BOT_USER}> help me")
    assert await decide(threads, web, root, say(fake_slack, "more details", thread_ts=root))
    assert await decide(threads, web, root, say(fake_slack, "and more", thread_ts=root))
    assert lookups(fake_slack) == 1 == threads.lookups


async def test_a_thread_where_its_session_replied_belongs(fake_slack, web):
    threads = ThreadMembership()
    root = say(fake_slack, "an alert fired")
    await web.chat_postMessage(channel="C1", thread_ts=root, text="I'm on it", metadata=keyed(session_id(root)))
    assert await decide(threads, web, root, say(fake_slack, "thanks", thread_ts=root))
    assert fake_slack.calls_to("conversations.replies")[0].params["include_all_metadata"] in ("1", "true", True)


async def test_bot_posts_that_are_not_this_threads_session_do_not_open_one(fake_slack, web):
    """An incident card or an alert notice is the bot's, but people talking under it are not talking to it."""
    threads = ThreadMembership()
    card = (
        await web.chat_postMessage(channel="C1", text="Incident card", metadata=keyed("slack:T1:C9:1.0/incident/1"))
    )["ts"]
    assert await decide(threads, web, card, say(fake_slack, "I'm looking", thread_ts=card)) is False
    notice = (await web.chat_postMessage(channel="C1", text="Object removed from bucket"))["ts"]
    assert await decide(threads, web, notice, say(fake_slack, "expected", thread_ts=notice)) is False
    other_bot = say(fake_slack, f"<@{BOT_USER}> ping from a bot", bot_id="BOTHER")
    assert await decide(threads, web, other_bot, say(fake_slack, "ignore it", thread_ts=other_bot)) is False


async def test_session_known_to_temporal_needs_no_slack_call(fake_slack, web):
    threads = ThreadMembership()
    root = say(fake_slack, "no mention here")
    assert await decide(threads, web, root, say(fake_slack, "hi", thread_ts=root), a_session)
    assert lookups(fake_slack) == 0


async def test_mention_seen_by_this_gateway_needs_no_call(fake_slack, web):
    threads = ThreadMembership()
    root = new_ts()
    threads.mark_known((TEAM, "C1", root), root)
    assert threads.is_known((TEAM, "C1", root), say(fake_slack, "follow-up", thread_ts=root))
    assert await decide(threads, web, root, say(fake_slack, "follow-up 2", thread_ts=root))
    assert lookups(fake_slack) == 0


async def test_unrelated_thread_costs_one_lookup_for_a_burst_and_none_for_covered_retries(fake_slack, web):
    threads = ThreadMembership()
    root = say(fake_slack, "lunch?")
    replies = [say(fake_slack, f"sure ({n})", thread_ts=root, user="UBOB") for n in range(30)]
    assert await asyncio.gather(*(decide(threads, web, root, ts) for ts in replies)) == [False] * 30
    assert lookups(fake_slack) == 1
    assert await decide(threads, web, root, replies[-1]) is False  # Slack's retry of a covered message
    assert lookups(fake_slack) == 1


async def test_chatter_before_a_mid_thread_mention_does_not_belong_but_what_follows_does(fake_slack, web):
    threads = ThreadMembership()
    root = say(fake_slack, "deploy went out")
    chatter = say(fake_slack, "looks fine to me", thread_ts=root, user="UBOB")
    say(fake_slack, f"<@{BOT_USER}> can you check the error rate?", thread_ts=root)
    after = say(fake_slack, "last hour please", thread_ts=root)
    assert await decide(threads, web, root, after)
    assert await decide(threads, web, root, chatter) is False
    assert lookups(fake_slack) == 1


async def test_waiter_for_the_next_lookup_is_answered_by_a_mention_at_once(fake_slack, web):
    threads = ThreadMembership(min_interval=3600)
    root = say(fake_slack, "standup notes")
    assert await decide(threads, web, root, say(fake_slack, "noted", thread_ts=root)) is False
    chatter = asyncio.ensure_future(decide(threads, web, root, say(fake_slack, "me too", thread_ts=root)))
    mention = say(fake_slack, f"<@{BOT_USER}> summarise", thread_ts=root)
    follow = asyncio.ensure_future(decide(threads, web, root, say(fake_slack, "in three bullets", thread_ts=root)))
    await asyncio.sleep(0.2)
    assert not follow.done() and not chatter.done()  # both wait for the thread's next lookup
    threads.mark_known((TEAM, "C1", root), mention)  # the mention's own event arrives
    assert await follow is True
    assert not chatter.done()  # older than the mention: only Slack can say, at the next lookup
    await threads.close()  # gateway shutdown releases it
    assert await asyncio.wait_for(chatter, BOUND) is False
    assert lookups(fake_slack) == 1


async def test_long_thread_is_read_page_by_page(fake_slack, web):
    threads = ThreadMembership()
    root = say(fake_slack, "big thread")
    for n in range(450):
        say(fake_slack, f"line {n}", thread_ts=root, user="UBOB")
    say(fake_slack, f"<@{BOT_USER}> what did we decide?", thread_ts=root)
    assert await decide(threads, web, root, say(fake_slack, "tl;dr please", thread_ts=root))
    assert lookups(fake_slack) == 3  # 200 + 200 + 53 messages
    assert [c.params.get("cursor") for c in fake_slack.calls_to("conversations.replies")][1:] == ["i:200", "i:400"]


async def test_slack_refusing_the_lookup_is_one_warning_and_not_for_the_bot(fake_slack, web, caplog):
    threads = ThreadMembership()
    root = say(fake_slack, f"<@{BOT_USER}> hello")
    fake_slack.fail("conversations.replies", "error", error="missing_scope")
    with caplog.at_level(logging.WARNING, logger="adapters.slack.thread_membership"):
        assert await decide(threads, web, root, say(fake_slack, "hi", thread_ts=root)) is False
    assert [r.levelname for r in caplog.records] == ["WARNING"] and not caplog.records[0].exc_info
    assert "missing_scope" in caplog.records[0].getMessage()


async def test_fake_conversations_replies_has_slacks_shape(fake_slack, web):
    root = say(fake_slack, "parent")
    first = say(fake_slack, "one", thread_ts=root)
    await web.chat_postMessage(channel="C1", thread_ts=root, text="bot answer", metadata=keyed("w"))
    say(fake_slack, "elsewhere")  # another top-level message: not in the thread
    page = await web.conversations_replies(channel="C1", ts=root, limit=2)
    assert [m["ts"] for m in page["messages"]] == [root, first]
    assert page["messages"][0]["reply_count"] == 2 and page["has_more"] is True
    rest = await web.conversations_replies(
        channel="C1", ts=root, limit=2, cursor=page["response_metadata"]["next_cursor"]
    )
    assert [m["text"] for m in rest["messages"]] == ["bot answer"] and rest["has_more"] is False
    assert "metadata" not in rest["messages"][0]  # only with include_all_metadata
    with_meta = await web.conversations_replies(channel="C1", ts=root, include_all_metadata=True)
    assert with_meta["messages"][-1]["metadata"]["event_type"] == METADATA_EVENT
    assert rest["response_metadata"]["next_cursor"] == ""
    with pytest.raises(SlackApiError) as err:
        await web.conversations_replies(channel="C1", ts="1.000001")
    assert err.value.response["error"] == "thread_not_found"
