"""The Teams ReplyStream against the fake Bot Connector: 1:1 streaming, group post-then-update,
retries that continue their own message, the user's Stop, and refused or expired streams."""

from __future__ import annotations

import asyncio
import time
from itertools import pairwise

import httpx
import pytest

from adapters.base import PlatformError
from adapters.stream_fallback import PostThenUpdateStream
from adapters.teams.streaming import TeamsStream
from tests.teams.streaming_support import (
    CHUNKS,
    FULL_TEXT,
    StopCalls,
    conversation,
    feed,
    teams_platform,
    until,
)
from workflows.contracts import Actor, Button, ButtonsBlock, Reply, TextBlock

ALICE = Actor(id="29:alice", name="Alice Example")


async def test_personal_chat_streams_then_closes_with_one_final_message(connector, tmp_path):
    key, context = conversation(connector, "a:stream-1")
    async with teams_platform(connector, tmp_path) as platform:
        stream = await platform.open_stream(key, "wf#run#1", ALICE, context=context)
        assert isinstance(stream, TeamsStream)
        await stream.status("thinking…")
        await feed(stream, CHUNKS)
        reply = Reply(
            text=FULL_TEXT,
            blocks=[
                TextBlock(text=FULL_TEXT),
                ButtonsBlock(buttons=[Button(label="Thanks", action_id="thanks", workflow_id=key.session_id())]),
            ],
        )
        ref = await stream.finish(reply)

    [streamed] = connector.streams.in_conversation("a:stream-1")
    assert ref.message_id == streamed.stream_id
    assert streamed.informative == ["thinking…"]
    assert len(streamed.chunks) >= 3, streamed.chunks  # it arrived as a stream, not at once
    assert all(later.startswith(earlier) for earlier, later in pairwise(streamed.chunks))
    assert streamed.state == "final"
    assert streamed.final is not None and streamed.final["type"] == "message"
    assert streamed.final["attachments"][0]["contentType"] == "application/vnd.microsoft.card.adaptive"
    [shown] = connector.messages("a:stream-1")
    assert shown.startswith(FULL_TEXT)  # the card's summary (and fallback text)
    assert connector.streams.refusals == []
    # The one post is the final message, named by the streamId: nothing posted outside the stream.
    assert [c.new_id for c in connector.posts("a:stream-1")] == [streamed.stream_id]


async def test_retried_stream_continues_its_own_stream_after_the_worker_died(connector, tmp_path):
    key, context = conversation(connector, "a:stream-2")
    async with teams_platform(connector, tmp_path) as first_worker:
        dying = await first_worker.open_stream(key, "wf#run#2", ALICE, context=context)
        await feed(dying, CHUNKS[:10])
        await until("a chunk streamed", lambda: bool(connector.streams.in_conversation("a:stream-2")[0].chunks))
        # SIGKILL: this attempt sends nothing more, ever.
        dying._closing = True  # type: ignore[attr-defined]
        await dying._quiet()  # type: ignore[attr-defined]
    [streamed] = connector.streams.in_conversation("a:stream-2")
    seen_before = list(streamed.chunks)

    async with teams_platform(connector, tmp_path) as second_worker:  # the retried activity, same key
        retried = await second_worker.open_stream(key, "wf#run#2", ALICE, context=context)
        assert isinstance(retried, TeamsStream)
        await retried.status("thinking…")
        await feed(retried, CHUNKS)
        ref = await retried.finish(Reply(text=FULL_TEXT))

    assert connector.streams.in_conversation("a:stream-2") == [streamed]  # no second stream
    assert ref.message_id == streamed.stream_id
    assert len(streamed.chunks) > len(seen_before)  # the retry went on streaming into it
    assert streamed.state == "final"
    assert connector.messages("a:stream-2") == [FULL_TEXT]
    assert connector.streams.refusals == []


async def test_a_turn_stopped_between_two_attempts_keeps_the_streamed_text(connector, tmp_path):
    key, context = conversation(connector, "a:stream-2b")
    async with teams_platform(connector, tmp_path) as first_worker:
        dying = await first_worker.open_stream(key, "wf#run#2b", ALICE, context=context)
        await feed(dying, CHUNKS[:10])
        await until("a chunk streamed", lambda: bool(connector.streams.in_conversation("a:stream-2b")[0].chunks))
        dying._closing = True  # type: ignore[attr-defined]  # SIGKILL: this attempt sends nothing more
        await dying._quiet()  # type: ignore[attr-defined]
    [streamed] = connector.streams.in_conversation("a:stream-2b")
    shown = streamed.text

    async with teams_platform(connector, tmp_path) as second_worker:  # finish_stopped_turn, the same key
        stopping = await second_worker.open_stream(key, "wf#run#2b", ALICE, context=context)
        ref = await stopping.stop("_(stopped)_")

    assert connector.streams.in_conversation("a:stream-2b") == [streamed]  # no second stream or message
    assert ref.message_id == streamed.stream_id and streamed.state == "final"
    assert shown and connector.messages("a:stream-2b") == [f"{shown.rstrip()}\n\n_(stopped)_"]


async def test_finished_reply_retried_rewrites_the_same_message(connector, tmp_path):
    key, context = conversation(connector, "a:stream-3")
    async with teams_platform(connector, tmp_path) as platform:
        stream = await platform.open_stream(key, "wf#run#3", ALICE, context=context)
        await feed(stream, CHUNKS, delay=0.05)
        first = await stream.finish(Reply(text=FULL_TEXT))
        # The activity died after the final message, before Temporal heard of it: retried.
        again = await platform.open_stream(key, "wf#run#3", ALICE, context=context)
        assert isinstance(again, PostThenUpdateStream)
        await feed(again, CHUNKS, delay=0.01)
        second = await again.finish(Reply(text=FULL_TEXT + "(again)"))
    assert second.message_id == first.message_id
    assert connector.messages("a:stream-3") == [FULL_TEXT + "(again)"]


async def test_user_stop_asks_the_session_to_stop_and_the_message_keeps_the_text(connector, tmp_path):
    key, context = conversation(connector, "a:stream-4")
    async with teams_platform(connector, tmp_path) as platform:
        stops = StopCalls()
        platform.use_dispatcher(stops)
        stream = await platform.open_stream(key, "wf#run#4", ALICE, context=context)
        await feed(stream, CHUNKS[:6])
        await until("a chunk streamed", lambda: bool(connector.streams.in_conversation("a:stream-4")[0].chunks))
        connector.streams.press_stop("a:stream-4")
        feeding = asyncio.create_task(feed(stream, CHUNKS[6:]))
        await until("the session asked to stop", lambda: bool(stops.calls))
        feeding.cancel()  # what the cancelled activity does next
        ref = await stream.stop("_(stopped)_")

    [(session_id, actor, request_id)] = stops.calls
    assert session_id == key.session_id() and actor == ALICE and request_id
    [streamed] = connector.streams.in_conversation("a:stream-4")
    assert ref.message_id == streamed.stream_id
    assert streamed.state == "cancelled" and streamed.final is None
    shown = connector.messages("a:stream-4")
    assert len(shown) == 1 and shown[0].endswith("_(stopped)_") and shown[0].startswith("word00 word01")


async def test_group_chat_posts_a_placeholder_and_updates_it(connector, tmp_path):
    group = "19:group-chat@thread.v2"
    key, context = conversation(connector, group, conversation_type="groupChat")
    async with teams_platform(connector, tmp_path) as platform:
        stream = await platform.open_stream(key, "wf#run#5", ALICE, context=context)
        assert isinstance(stream, PostThenUpdateStream)
        await stream.status("thinking…")
        await feed(stream, CHUNKS)
        ref = await stream.finish(Reply(text=FULL_TEXT))
    [placeholder] = connector.posts(group)
    assert placeholder.text == "thinking…" and ref.message_id == placeholder.new_id
    updates = connector.updates(group)
    assert len(updates) >= 3 and updates[-1].text == FULL_TEXT
    assert connector.messages(group) == [FULL_TEXT]
    assert connector.streams.in_conversation(group) == []


async def test_stream_teams_refuses_falls_back_to_one_updated_message(connector, tmp_path):
    key, context = conversation(connector, "a:stream-6")
    connector.streams.allowed = False  # e.g. a tenant or client where the bot may not stream
    async with teams_platform(connector, tmp_path) as platform:
        stream = await platform.open_stream(key, "wf#run#6", ALICE, context=context)
        await stream.status("thinking…")
        await feed(stream, CHUNKS)
        ref = await stream.finish(Reply(text=FULL_TEXT))
    assert connector.streams.in_conversation("a:stream-6") == []
    assert [c.new_id for c in connector.posts("a:stream-6")] == [ref.message_id]
    assert connector.messages("a:stream-6") == [FULL_TEXT]


async def test_expired_stream_is_finished_by_updating_its_message(connector, tmp_path):
    key, context = conversation(connector, "a:stream-7")
    connector.streams.time_limit = 0.8  # Teams' two minutes, shortened
    async with teams_platform(connector, tmp_path) as platform:
        stream = await platform.open_stream(key, "wf#run#7", ALICE, context=context)
        await feed(stream, CHUNKS)
        ref = await stream.finish(Reply(text=FULL_TEXT))
    [streamed] = connector.streams.in_conversation("a:stream-7")
    assert ref.message_id == streamed.stream_id
    assert any("exceeded streaming time" in r for r in connector.streams.refusals)
    assert connector.posts("a:stream-7") == []  # no final message: the expired stream's message was updated
    assert connector.messages("a:stream-7") == [FULL_TEXT]


async def test_stream_expired_before_any_text_posts_the_reply(connector, tmp_path):
    key, context = conversation(connector, "a:stream-10")
    connector.streams.time_limit = 0.3
    async with teams_platform(connector, tmp_path) as platform:
        stream = await platform.open_stream(key, "wf#run#10", ALICE, context=context)
        await stream.status("searching documents…")  # a slow tool: nothing but the informative update
        await until("the informative update", lambda: bool(connector.streams.in_conversation("a:stream-10")))
        await asyncio.sleep(0.5)
        await feed(stream, CHUNKS)
        ref = await stream.finish(Reply(text=FULL_TEXT))
    assert [c.new_id for c in connector.posts("a:stream-10")] == [ref.message_id]
    assert connector.messages("a:stream-10") == [FULL_TEXT]


async def test_informative_update_is_cut_to_teams_limit(connector, tmp_path):
    key, context = conversation(connector, "a:stream-8")
    async with teams_platform(connector, tmp_path) as platform:
        stream = await platform.open_stream(key, "wf#run#8", ALICE, context=context)
        await stream.status("searching " * 200)
        await until("the informative update", lambda: bool(connector.streams.in_conversation("a:stream-8")))
        await feed(stream, CHUNKS[:3], delay=0.01)
        await stream.finish(Reply(text="done"))
    [streamed] = connector.streams.in_conversation("a:stream-8")
    assert [len(text) for text in streamed.informative] == [1000]
    assert connector.messages("a:stream-8") == ["done"]


async def test_quick_reply_without_chunks_is_one_plain_message(connector, tmp_path):
    key, context = conversation(connector, "a:stream-9")
    async with teams_platform(connector, tmp_path) as platform:
        stream = await platform.open_stream(key, "wf#run#9", ALICE, context=context)
        ref = await stream.finish(Reply(text="hello"))
    [post] = connector.posts("a:stream-9")
    assert post.new_id == ref.message_id and connector.messages("a:stream-9") == ["hello"]


async def test_fake_connector_refuses_what_teams_refuses(connector):
    """The rules the stream tests rely on: each one is enforced, so a stream breaking it would fail them."""
    conv = "a:rules"
    url = f"{connector.url}v3/conversations/{conv}/activities"

    def typing(text: str, kind: str, sequence: int, stream_id: str | None = None) -> dict:
        info = {"type": "streaminfo", "streamType": kind, "streamSequence": sequence}
        return {
            "type": "typing",
            "text": text,
            "entities": [{**info, **({"streamId": stream_id} if stream_id else {})}],
        }

    async with httpx.AsyncClient() as http:
        too_long = await http.post(url, json=typing("x" * 1001, "informative", 1))
        assert too_long.status_code == 400
        group = await http.post(
            f"{connector.url}v3/conversations/19:g@thread.v2/activities", json=typing("a", "streaming", 1)
        )
        assert group.status_code == 403 and group.json()["error"]["code"] == "ContentStreamNotAllowed"
        started = await http.post(url, json=typing("The quick", "streaming", 1))
        stream_id = started.json()["id"]
        another = await http.post(url, json=typing("Other", "streaming", 1))  # one stream per chat at a time
        assert another.status_code == 403
        assert (await http.post(url, json=typing("The quick brown", "streaming", 2, stream_id))).status_code == 201
        assert (
            await http.post(url, json=typing("Hello", "streaming", 3, stream_id))
        ).status_code == 400  # not cumulative
        assert (await http.post(url, json=typing("The quick brown fox", "streaming", 2, stream_id))).status_code == 400
        assert (await http.post(url, json=typing("later", "informative", 3, stream_id))).status_code == 400
        assert (await http.post(url, json=typing("The quick brown fox", "streaming", 3, stream_id))).status_code == 201
        final = {
            "type": "message",
            "text": "The quick brown fox.",
            "entities": [{"type": "streaminfo", "streamType": "final", "streamId": stream_id}],
        }
        assert (await http.post(url, json=final)).status_code == 201
        after = await http.post(url, json=typing("The quick brown fox jumps", "streaming", 4, stream_id))
        assert after.status_code == 400 and "completed" in after.json()["error"]["message"]
        second = await http.post(url, json=typing("Next", "streaming", 1))
        connector.streams.press_stop(conv)
        stopped = await http.post(url, json=typing("Next one", "streaming", 2, second.json()["id"]))
        assert stopped.status_code == 403 and "cancelled by user" in stopped.json()["error"]["message"]
    assert connector.messages(conv) == ["The quick brown fox.", "Next"]


async def test_refused_final_delivered_by_the_session_closes_the_same_stream(connector, tmp_path):
    """A stream the platform refused is delivered by the session under the turn's key (post, then
    update: workflows/chat_session.py); in Teams that post closes the stream the turn started."""
    key, context = conversation(connector, "a:stream-redeliver")
    async with teams_platform(connector, tmp_path) as platform:
        stream = await platform.open_stream(key, "wf#run#r", ALICE, context=context)
        await feed(stream, CHUNKS)
        connector.down_until = time.monotonic() + 60  # the final message meets a 503
        with pytest.raises(PlatformError) as refused:
            await stream.finish(Reply(text=FULL_TEXT))
        assert refused.value.retryable
        connector.down_until = 0.0
        ref = await platform.post(key, Reply(text=FULL_TEXT), idempotency_key="wf#run#r", context=context)
        await platform.update(ref, Reply(text=FULL_TEXT))

    [streamed] = connector.streams.in_conversation("a:stream-redeliver")
    assert ref.message_id == streamed.stream_id and streamed.state == "final"
    assert connector.messages("a:stream-redeliver") == [FULL_TEXT]
    assert [c.new_id for c in connector.posts("a:stream-redeliver")] == [streamed.stream_id]
