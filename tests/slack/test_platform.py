"""SlackPlatform against the fake Slack Web API: what the worker's activities call."""

from __future__ import annotations

from pathlib import Path

import pytest

from adapters.base import PlatformError
from adapters.posted_log import SqlitePostedLog
from adapters.slack.client import SlackClients
from adapters.slack.platform import SlackPlatform, channel_name
from tests.slack.fake_slack import BOT_TOKEN
from workflows.contracts import Button, ButtonsBlock, ConversationKey, MessageRef, Reply, TextBlock

THREAD = ConversationKey(platform="slack", workspace="T1", channel="C1", thread="1700000000.000001")


@pytest.fixture
async def platform(fake_slack, tmp_path: Path):
    store = SqlitePostedLog(tmp_path / "posted.sqlite3")
    await store.open()
    platform = SlackPlatform(SlackClients(fake_slack.api_url, BOT_TOKEN), store)
    try:
        yield platform
    finally:
        await platform.clients.close()  # the Slack connection pool
        await store.close()


async def test_post_with_the_same_idempotency_key_posts_once(platform, fake_slack):
    first = await platform.post(THREAD, Reply(text="hello"), idempotency_key="wf#run#1")
    again = await platform.post(THREAD, Reply(text="hello"), idempotency_key="wf#run#1")
    other = await platform.post(THREAD, Reply(text="hello"), idempotency_key="wf#run#2")
    assert first == again and other.message_id != first.message_id
    assert len(fake_slack.calls_to("chat.postMessage")) == 2
    assert [m["thread_ts"] for m in fake_slack.posts("C1")] == [THREAD.thread] * 2


async def test_long_replies_are_split_under_slack_limits(platform, fake_slack):
    paragraph = "word " * 700  # 3,500 characters: more than one section
    ref = await platform.post(THREAD, Reply(text=paragraph * 50), idempotency_key="wf#run#long")
    posts = fake_slack.posts("C1")
    assert len(posts) == 2  # 175,000 characters: about 59 sections, over 50 blocks per message
    assert ref.extra["parts"] == [p["ts"] for p in posts]
    for post in posts:
        assert len(post["blocks"]) <= 50
        assert all(len(b["text"]["text"]) <= 3000 for b in post["blocks"])
        assert post["text"].strip()  # every part has its own fallback text
    total = "".join(b["text"]["text"] for p in posts for b in p["blocks"])
    assert total.replace(" ", "") == (paragraph * 50).replace(" ", "")

    # A retry of the same post (same key) posts none of the parts again.
    await platform.post(THREAD, Reply(text=paragraph * 50), idempotency_key="wf#run#long")
    assert len(fake_slack.posts("C1")) == 2


async def test_update_replaces_the_message_and_buttons_carry_their_workflow(platform, fake_slack):
    card = Reply(
        text="Deploy?",
        blocks=[
            TextBlock(text="Deploy?"),
            ButtonsBlock(
                buttons=[
                    Button(label="Approve", action_id="deploy.ok", value="v1", workflow_id="wf-1", style="primary")
                ]
            ),
        ],
    )
    ref = await platform.post(THREAD, card, idempotency_key="k1")
    button = fake_slack.posts("C1")[0]["blocks"][1]["elements"][0]
    assert button["style"] == "primary" and button["action_id"] == "deploy.ok"
    assert button["value"] == '{"w":"wf-1","a":"deploy.ok","v":"v1"}'
    await platform.update(ref, Reply(text="Approved by Bob"))
    msg = fake_slack._find("C1", ref.message_id)
    assert msg["text"] == "Approved by Bob" and msg["blocks"][0]["text"]["text"] == "Approved by Bob"


async def test_create_channel_sanitises_suffixes_sets_topic_and_invites(platform, fake_slack):
    like = ConversationKey(platform="slack", workspace="T1", channel="C1", thread="1.2")
    first = await platform.create_channel(
        "Incident: Checkout is DOWN!!", topic="SEV1 checkout", members=["UALICE", "UBOB"], like=like
    )
    assert first.thread is None and first.workspace == "T1"
    assert fake_slack.channels[first.channel]["name"] == "incident-checkout-is-down"
    assert fake_slack.channels[first.channel]["topic"] == "SEV1 checkout"
    assert {"UALICE", "UBOB"} <= set(fake_slack.channels[first.channel]["members"])

    second = await platform.create_channel("incident checkout is down", like=like)  # name_taken -> suffix
    assert fake_slack.channels[second.channel]["name"] == "incident-checkout-is-down-2"
    assert [c.params["name"] for c in fake_slack.calls_to("conversations.create")][-2:] == [
        "incident-checkout-is-down",
        "incident-checkout-is-down-2",
    ]

    # An unknown member does not fail the channel.
    third = await platform.create_channel("x" * 200, members=["UNOBODY", "UALICE"], like=like)
    assert len(fake_slack.channels[third.channel]["name"]) == 80


def test_channel_names_follow_slack_rules():
    assert channel_name("Ünïcode & spaces / slashes") == "n-code-spaces-slashes"
    assert channel_name("!!!") == "threadwork"
    assert channel_name("a_b-c") == "a_b-c"
    assert len(channel_name("y" * 100)) == 80


async def test_pin_and_private_messages(platform, fake_slack):
    ref = await platform.post(THREAD, Reply(text="pin me"), idempotency_key="p1")
    await platform.pin(ref)
    await platform.pin(ref)  # already_pinned is fine
    assert fake_slack.pins == [("C1", ref.message_id)]
    await platform.send_private(THREAD, "UBOB", "only you can see this")
    assert fake_slack.ephemeral == [
        {"channel": "C1", "user": "UBOB", "text": "only you can see this", "thread_ts": THREAD.thread}
    ]


async def test_slack_errors_become_platform_errors(platform, fake_slack):
    with pytest.raises(PlatformError) as err:
        await platform.update(MessageRef(key=THREAD, message_id="9.9"), Reply(text="x"))
    assert "message_not_found" in str(err.value) and err.value.retryable is False

    fake_slack.fail("chat.postMessage", "429", times=4, retry_after=0)  # more than the client retries
    with pytest.raises(PlatformError) as err:
        await platform.post(THREAD, Reply(text="x"), idempotency_key="rl")
    assert err.value.retryable is True  # Temporal's retry policy takes over

    unknown = SlackPlatform(SlackClients(fake_slack.api_url, None), platform.posted)
    with pytest.raises(PlatformError, match="not installed"):
        await unknown.post(THREAD, Reply(text="x"))
    await unknown.clients.close()
