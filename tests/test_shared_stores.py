"""One store test suite, run on both backends: SQLite in a data dir, and a real PostgreSQL server
(upload bytes: the data dir, and an S3 bucket on moto's server).

Every store an adapter uses (web chat channels/messages/events/invites, the post log, Slack
installations and OAuth states, upload files) must behave the same on both; adapters never
learn which one they have.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from adapters.storage.backends import Storage
from adapters.webchat.invites import InviteError, Invites
from tests.support.services import aws_env, moto_s3  # noqa: F401  (fixtures)

BOUND = 30.0


@pytest_asyncio.fixture(params=["sqlite", "postgresql"])
async def storage(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Storage]:
    url = request.getfixturevalue("database_url") if request.param == "postgresql" else None
    storage = Storage(tmp_path, database_url=url)
    assert storage.backend == request.param
    try:
        yield storage
    finally:
        await storage.close()


@pytest_asyncio.fixture
async def store(storage: Storage):
    store = storage.webchat_store()
    await store.open()
    try:
        yield store
    finally:
        await store.close()


async def _second(storage: Storage):
    """The same shared state as another process sees it: a second Storage on the same data dir / database."""
    other = Storage(storage.data_dir, database_url=storage.database.url if storage.database else None)
    store = other.webchat_store()
    await store.open()
    return other, store


async def test_default_channels_and_new_channels_get_free_names(store):
    assert [c["id"] for c in await store.channels()] == ["general", "incidents"]
    assert (await store.create_channel("Incident: DB down!"))["id"] == "incident-db-down"
    assert (await store.create_channel("incident db down"))["id"] == "incident-db-down-2"
    await store.ensure_channel("documents", "Documents")
    await store.ensure_channel("documents", "ignored the second time")
    assert await store.channel_exists("documents") and not await store.channel_exists("nope")
    assert [c["topic"] for c in await store.channels() if c["id"] == "documents"] == ["Documents"]


async def test_messages_threads_and_order(store):
    root = await store.add_message(channel="general", thread=None, user="ann", text="hello")
    assert root["thread"] == root["id"]
    reply = await store.add_message(
        channel="general",
        thread=root["id"],
        user="threadwork",
        text="hi",
        is_bot=True,
        blocks=[{"type": "buttons", "buttons": [{"action_id": "a", "text": "A"}]}],
        files=[{"name": "a.txt", "url": "/x", "size": 1, "mimetype": "text/plain"}],
    )
    other = await store.add_message(channel="general", thread=None, user="bo", text="another thread")
    assert [m["text"] for m in await store.messages("general", root["id"])] == ["hello", "hi"]
    assert [m["text"] for m in await store.messages("general")] == ["hello", "hi", "another thread"]
    got = await store.get_message(reply["id"])
    assert got == reply and got["is_bot"] is True and got["blocks"][0]["buttons"][0]["action_id"] == "a"
    assert got["files"][0]["name"] == "a.txt"
    assert await store.get_message("missing") is None
    assert other["thread"] == other["id"]


async def test_an_idempotency_key_posts_once_and_a_reused_message_id_returns_the_first(store):
    before = await store.last_event_seq()
    first = await store.add_message(
        channel="general", thread=None, user="threadwork", text="once", is_bot=True, idempotency_key="wf#run#1"
    )
    again = await store.add_message(
        channel="general", thread=None, user="threadwork", text="twice?", is_bot=True, idempotency_key="wf#run#1"
    )
    assert again == first
    same_id = await store.add_message(channel="general", thread=None, user="ann", text="x", message_id="m-1")
    assert (await store.add_message(channel="general", thread=None, user="ann", text="y", message_id="m-1")) == same_id
    events = await store.events_after(before)
    assert [(kind, m["text"]) for _, kind, m in events] == [("new", "once"), ("new", "x")]


async def test_updates_are_events_and_unknown_ids_are_none(store):
    msg = await store.add_message(channel="general", thread=None, user="threadwork", text="draft", is_bot=True)
    seq = await store.last_event_seq()
    updated = await store.update_message(msg["id"], "final", [{"type": "section", "text": "done"}])
    assert (
        updated is not None
        and updated["text"] == "final"
        and updated["blocks"] == [{"type": "section", "text": "done"}]
    )
    [(after, kind, message)] = await store.events_after(seq)
    assert after > seq and kind == "update" and message["text"] == "final"
    assert await store.update_message("missing", "x", []) is None
    assert await store.last_event_seq() == after


async def test_another_process_sees_every_write_in_commit_order(storage, store):
    other_storage, other = await _second(storage)
    try:
        start = await store.last_event_seq()

        async def write(s, who: str, n: int) -> None:
            for i in range(n):
                await s.add_message(channel="general", thread=None, user=who, text=f"{who}{i}")

        await asyncio.gather(write(store, "a", 15), write(other, "b", 15))
        events = await store.events_after(start, limit=100)
        seqs = [seq for seq, _, _ in events]
        assert seqs == sorted(seqs) and len(set(seqs)) == 30
        assert sorted(m["text"] for _, _, m in events) == sorted(
            [f"a{i}" for i in range(15)] + [f"b{i}" for i in range(15)]
        )
        assert [m["text"] for _, _, m in await other.events_after(start, limit=100)] == [
            m["text"] for _, _, m in events
        ]
    finally:
        await other.close()
        await other_storage.close()


async def test_invites_work_once_and_say_why_they_are_refused(store):
    invites = Invites(store)
    invite = await invites.create("Finn")
    assert await invites.redeem(invite.token) == "Finn"
    with pytest.raises(InviteError, match="already used"):
        await invites.redeem(invite.token)
    with pytest.raises(InviteError, match="not valid"):
        await invites.redeem("no-such-token")
    short = await invites.create("Gus", ttl_seconds=0.05)
    await asyncio.sleep(0.1)
    with pytest.raises(InviteError, match="expired"):
        await invites.redeem(short.token)


async def test_revoking_a_member_deletes_its_unused_links_and_is_seen_by_every_process(storage, store):
    other_storage, other = await _second(storage)
    try:
        invites = Invites(store)
        used, unused, kept = await invites.create("Ivy"), await invites.create("Ivy"), await invites.create("Jon")
        assert await invites.redeem(used.token) == "Ivy"
        assert await Invites(other).revoke("Ivy") == 1  # the unused link; the used one is history
        with pytest.raises(InviteError, match="not valid"):
            await invites.redeem(unused.token)
        assert await invites.redeem(kept.token) == "Jon"
        revoked = await store.revocations()
        assert list(revoked) == ["Ivy"]
        assert await Invites(store).revoke("Ivy") == 0
        assert (await other.revocations())["Ivy"] >= revoked["Ivy"]  # revoked again: the later time counts
    finally:
        await other.close()
        await other_storage.close()


async def test_two_gateways_race_for_one_invite_and_one_wins(storage, store):
    other_storage, other = await _second(storage)
    try:
        invite = await Invites(store).create("Hana")
        results = await asyncio.gather(
            *(Invites(s).redeem(invite.token) for s in (store, other, store, other)), return_exceptions=True
        )
        assert [r for r in results if r == "Hana"] == ["Hana"]
        assert all(isinstance(r, InviteError) for r in results if r != "Hana")
    finally:
        await other.close()
        await other_storage.close()


async def test_posted_log_is_shared_per_platform(storage):
    slack, teams = storage.posted_log("slack"), storage.posted_log("teams")
    await slack.open()
    await teams.open()
    other_storage = Storage(storage.data_dir, database_url=storage.database.url if storage.database else None)
    other = other_storage.posted_log("slack")
    await other.open()
    try:
        assert await slack.get("wf#run#1#0") is None
        await slack.put("wf#run#1#0", {"channel": "C1", "ts": "1.1"})
        assert await other.get("wf#run#1#0") == {"channel": "C1", "ts": "1.1"}
        assert await teams.get("wf#run#1#0") is None
        await other.put("wf#run#1#0", {"channel": "C1", "ts": "2.2"})
        assert await slack.get("wf#run#1#0") == {"channel": "C1", "ts": "2.2"}
    finally:
        for log in (slack, teams, other):
            await log.close()
        await other_storage.close()


async def test_put_if_absent_records_once_and_returns_what_was_there(storage):
    """The fast path's crash mark: of two tries of one post (two workers, one store) one finds it new."""
    first, second = storage.posted_log("slack"), storage.posted_log("slack")
    await first.open()
    await second.open()
    try:
        assert await first.put_if_absent("wf#run#1#unsure", {"local": True, "at": 1.0}) is None
        assert await second.put_if_absent("wf#run#1#unsure", {"local": True, "at": 2.0}) == {"local": True, "at": 1.0}
        assert await first.get("wf#run#1#unsure") == {"local": True, "at": 1.0}  # not overwritten
        assert await second.put_if_absent("wf#run#2#unsure", {"local": True, "at": 3.0}) is None
    finally:
        await first.close()
        await second.close()


async def test_wait_for_change_wakes_on_a_local_write(store):
    waiting = asyncio.create_task(store.wait_for_change(BOUND * 10))
    await asyncio.sleep(0)
    await store.add_message(channel="general", thread=None, user="ann", text="wake up")
    await asyncio.wait_for(waiting, BOUND)


# ---- upload bytes: the data dir, or an S3 bucket (moto's server) --------------------------


@pytest.fixture(params=["data dir", "s3"])
def upload_files(request: pytest.FixtureRequest, tmp_path: Path):
    if request.param == "data dir":
        return Storage(tmp_path).upload_files()
    import boto3

    endpoint = request.getfixturevalue("aws_env")
    bucket = f"b-{uuid.uuid4().hex[:8]}"
    boto3.client("s3", endpoint_url=endpoint).create_bucket(Bucket=bucket)
    return Storage(tmp_path, uploads_url=f"s3://{bucket}/up", aws_endpoint_url=endpoint).upload_files()


async def test_upload_files_publish_size_read_and_refuse_what_is_not_an_upload(upload_files):
    from adapters.storage.uploads import UploadMissing

    upload_id = uuid.uuid4().hex[:16]
    folder = upload_files.staging / upload_id
    folder.mkdir(parents=True)
    (folder / "a.txt").write_bytes(b"hello")
    await upload_files.publish(upload_id, "a.txt")
    assert await upload_files.size(upload_id, "a.txt") == 5
    assert await upload_files.read(upload_id, "a.txt", 3) == b"hel"
    assert await upload_files.read(upload_id, "a.txt", 100) == b"hello"
    for bad_id, name in (
        (upload_id, "b.txt"),
        ("../../etc", "passwd"),
        (upload_id, "../a.txt"),
        (upload_id, ".hidden"),
    ):
        with pytest.raises(UploadMissing):
            await upload_files.read(bad_id, name, 3)
        with pytest.raises(UploadMissing):
            await upload_files.size(bad_id, name)


# ---- Slack installations: slack_sdk's SQLite stores, or PostgreSQL -------------------------


async def test_slack_installations_newest_wins_per_workspace_and_client(storage):
    from slack_sdk.oauth.installation_store import Installation

    store = storage.slack_installation_store("client-1")
    assert await store.async_find_bot(enterprise_id=None, team_id="T1") is None
    for token in ("xoxb-old", "xoxb-new"):
        if token == "xoxb-new":
            await asyncio.sleep(1.1)  # slack_sdk's SQLite store stamps rows itself, to the second
        await store.async_save(
            Installation(
                app_id="A1",
                team_id="T1",
                team_name="Team",
                bot_token=token,
                bot_id="B1",
                bot_user_id="U0BOT",
                bot_scopes=["chat:write"],
                user_id="U1",
                user_token="xoxp-1",
                user_scopes=["search:read"],
            )
        )
    bot = await store.async_find_bot(enterprise_id=None, team_id="T1")
    assert bot is not None and bot.bot_token == "xoxb-new" and bot.bot_scopes == ["chat:write"]
    found = await store.async_find_installation(enterprise_id=None, team_id="T1", user_id="U1")
    assert found is not None and found.user_token == "xoxp-1" and found.bot_token == "xoxb-new"
    assert await store.async_find_installation(enterprise_id=None, team_id="T1", user_id="U2") is None
    assert await storage.slack_installation_store("client-2").async_find_bot(enterprise_id=None, team_id="T1") is None


async def test_slack_oauth_states_work_once(storage):
    states = storage.slack_state_store(600)
    state = await states.async_issue()
    assert await states.async_consume(state) is True
    assert await states.async_consume(state) is False
    assert await states.async_consume("forged") is False
