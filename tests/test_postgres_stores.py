"""What only the PostgreSQL backend does: migrations under an advisory lock, NOTIFY across
processes, Slack installs, and upload files in an S3 bucket (moto's server)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import boto3
import pytest
from slack_sdk.oauth.installation_store import Installation

from adapters.storage import StoreUnavailable
from adapters.storage.backends import Storage
from adapters.storage.postgres import PostgresDatabase, migrations
from adapters.storage.uploads import S3UploadFiles, UploadMissing
from adapters.webchat.upload_fetcher import WebChatUploadFetcher
from bots.config import Settings
from tests.support.services import aws_env, moto_s3  # noqa: F401  (fixtures)
from workflows.activities.fetchers import FetchError
from workflows.contracts import FileRef

BOUND = 30.0


async def test_concurrent_starters_apply_each_migration_once(database_url: str):
    databases = [PostgresDatabase(database_url, min_size=1, max_size=2) for _ in range(6)]
    try:
        await asyncio.gather(*(db.open() for db in databases))
        rows = await databases[0].pool.fetch("SELECT version, name FROM threadwork_migrations ORDER BY version")
        assert [(r["version"], r["name"]) for r in rows] == [(m.version, m.name) for m in migrations()]
    finally:
        for db in databases:
            await db.close()
    again = PostgresDatabase(database_url)
    try:
        await again.open()  # a restart finds everything applied
        assert await again.pool.fetchval("SELECT count(*) FROM threadwork_migrations") == len(migrations())
    finally:
        await again.close()


async def test_an_unreachable_database_is_one_clear_error(postgres_server):
    db = PostgresDatabase(f"postgresql://threadwork:secret@127.0.0.1:{postgres_server.port}/no_such_db")
    with pytest.raises(
        StoreUnavailable, match=r"THREADWORK_DATABASE_URL \(postgresql://threadwork:\*\*\*@.*no_such_db"
    ):
        await db.open()


def test_settings_refuse_urls_of_the_wrong_kind():
    with pytest.raises(ValueError, match="postgresql://"):
        Settings(THREADWORK_DATABASE_URL="mysql://x/y")
    with pytest.raises(ValueError, match="s3://bucket"):
        Settings(THREADWORK_UPLOADS_URL="/var/uploads")


async def test_a_write_through_one_gateway_wakes_the_streams_of_another(database_url: str, tmp_path: Path):
    a, b = Storage(tmp_path, database_url), Storage(tmp_path, database_url)
    store_a, store_b = a.webchat_store(), b.webchat_store()
    await store_a.open()
    await store_b.open()
    try:
        seq = await store_a.last_event_seq()
        await store_a.wait_for_change(0)  # a stream's first wait starts listening
        waiting = asyncio.create_task(store_a.wait_for_change(3600))  # only NOTIFY can end this in time
        await asyncio.sleep(0.1)
        await store_b.add_message(channel="general", thread=None, user="threadwork", text="from b", is_bot=True)
        await asyncio.wait_for(waiting, BOUND)
        assert [m["text"] for _, _, m in await store_a.events_after(seq)] == ["from b"]

        # PostgreSQL drops the listening connection (a restart, a failover): the next wait listens again.
        listener_pid = a.database._listener.get_server_pid()
        assert await b.database.pool.fetchval("SELECT pg_terminate_backend($1)", listener_pid)
        for _ in range(100):
            if not a.database.is_listening("webchat_events"):
                break
            await asyncio.sleep(0.05)
        assert not a.database.is_listening("webchat_events")
        await store_a.wait_for_change(0)
        assert a.database.is_listening("webchat_events")
        waiting = asyncio.create_task(store_a.wait_for_change(3600))
        await asyncio.sleep(0.1)
        await store_b.add_message(
            channel="general", thread=None, user="threadwork", text="after the reconnect", is_bot=True
        )
        await asyncio.wait_for(waiting, BOUND)
    finally:
        await store_a.close()
        await store_b.close()
        await a.close()
        await b.close()


async def test_slack_installs_and_oauth_states_live_in_postgres(database_url: str, tmp_path: Path):
    storage = Storage(tmp_path, database_url)
    store = storage.slack_installation_store("client-1")
    states = storage.slack_state_store(600)
    try:
        await storage.database.open()
        assert await store.async_find_bot(enterprise_id=None, team_id="T1") is None
        for token in ("xoxb-old", "xoxb-new"):
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
        other = Storage(tmp_path, database_url)  # another host
        bot = await other.slack_installation_store("client-1").async_find_bot(enterprise_id=None, team_id="T1")
        assert bot is not None and bot.bot_token == "xoxb-new" and bot.bot_scopes == ["chat:write"]
        found = await store.async_find_installation(enterprise_id=None, team_id="T1", user_id="U1")
        assert found is not None and found.user_token == "xoxp-1" and found.bot_token == "xoxb-new"
        assert (
            await storage.slack_installation_store("client-2").async_find_bot(enterprise_id=None, team_id="T1") is None
        )
        await store.async_delete_bot(enterprise_id=None, team_id="T1")
        assert await store.async_find_bot(enterprise_id=None, team_id="T1") is None
        await other.close()

        state = await states.async_issue()
        assert await states.async_consume(state) is True
        assert await states.async_consume(state) is False
        assert await states.async_consume("forged") is False
    finally:
        await storage.close()


async def test_uploads_in_a_bucket_are_read_by_the_worker(aws_env: str, tmp_path: Path):
    boto3.client("s3", endpoint_url=aws_env).create_bucket(Bucket="chat-files")
    files = S3UploadFiles("s3://chat-files/uploads/", aws_env)
    folder = files.staging / "0123456789abcdef"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "notes.txt").write_bytes(b"from the gateway")
    await files.publish("0123456789abcdef", "notes.txt")
    assert not folder.exists(), "the staging copy is removed once the bucket has it"
    obj = boto3.client("s3", endpoint_url=aws_env).get_object(
        Bucket="chat-files", Key="uploads/0123456789abcdef/notes.txt"
    )
    assert obj["Body"].read() == b"from the gateway"

    fetcher = WebChatUploadFetcher(None, "s3://chat-files/uploads", aws_env)
    ref = FileRef(name="notes.txt", url="webchat-uploads/0123456789abcdef/notes.txt", source="webchat")
    assert (await fetcher.fetch(ref, 1000)).data == b"from the gateway"
    with pytest.raises(FetchError, match="larger than"):
        await fetcher.fetch(ref, 4)
    with pytest.raises(FetchError, match="is gone"):
        await fetcher.fetch(ref.model_copy(update={"url": "webchat-uploads/0123456789abcdef/other.txt"}), 1000)
    with pytest.raises(FetchError, match="is not a web chat upload"):
        await fetcher.fetch(ref.model_copy(update={"url": "webchat-uploads/../../secret"}), 1000)
    with pytest.raises(UploadMissing):
        await files.read("0123456789abcdef", "../x", 10)


def test_an_unreachable_database_stops_the_gateway_with_one_line(tmp_path: Path):
    import subprocess
    import sys

    from tests.support.processes import REPO
    from tests.support.stack import free_port

    env = {k: v for k, v in __import__("os").environ.items() if not k.startswith(("THREADWORK_", "TEMPORAL_"))}
    env.update(
        THREADWORK_DATABASE_URL=f"postgresql://tw:hunter2@127.0.0.1:{free_port()}/tw",
        TEMPORAL_ADDRESS="127.0.0.1:1",
        THREADWORK_DATA_DIR=str(tmp_path),
        THREADWORK_PORT=str(free_port()),
    )
    done = subprocess.run(
        [sys.executable, "-m", "bots.cli", "gateway"], cwd=REPO, env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith("error: cannot connect to THREADWORK_DATABASE_URL (postgresql://tw:***@127.0.0.1:")
    assert "Traceback" not in done.stderr and "hunter2" not in done.stderr


async def test_the_whole_stack_on_postgresql_and_a_bucket(client, tmp_path: Path, database_url: str, aws_env: str):
    """Gateway and worker on PostgreSQL and S3: an upload is stored in the bucket, served, and summarized."""
    from tests.support.documents import REPORT_TEXT
    from tests.support.stack import running_stack
    from tests.test_webchat_upload import upload, wait_for_text

    boto3.client("s3", endpoint_url=aws_env).create_bucket(Bucket="uploads")
    async with running_stack(
        client,
        tmp_path / "data",
        database_url=database_url,
        uploads_url="s3://uploads/webchat",
        aws_endpoint_url=aws_env,
    ) as stack:
        resp = await upload(stack, "report.md", REPORT_TEXT.encode(), text="our storage report")
        assert resp.status_code == 202, resp.text
        sent = resp.json()
        keys = [
            o["Key"] for o in boto3.client("s3", endpoint_url=aws_env).list_objects_v2(Bucket="uploads")["Contents"]
        ]
        assert keys == [f"webchat/{sent['message_id']}/report.md"]
        [file] = next(
            m for m in await stack.store.messages("general", sent["thread"]) if m["id"] == sent["message_id"]
        )["files"]
        served = await stack.http.get(file["url"])
        assert served.status_code == 200 and served.content == REPORT_TEXT.encode()
        assert served.headers["content-disposition"].startswith("attachment")
        await wait_for_text(stack, sent["thread"], "Summary of report.md: Quarterly storage report")
        assert (await stack.http.get(f"/webchat/uploads/{sent['message_id']}/other.md")).status_code == 404
        assert (
            not (tmp_path / "data" / "webchat-uploads").exists()
            and not (tmp_path / "data" / "webchat.sqlite3").exists()
        )


async def test_a_database_outage_is_a_503_and_an_unhealthy_gateway(
    client, tmp_path: Path, postgres_server, database_url: str, caplog: pytest.LogCaptureFixture
):
    """PostgreSQL goes away under a running gateway: clients get 503 + Retry-After, /healthz says why, one log line."""
    from tests.support.processes import Relay
    from tests.support.stack import running_stack

    relay = Relay("127.0.0.1", postgres_server.port)
    address = await relay.start()
    try:
        async with running_stack(
            client,
            tmp_path,
            database_url=database_url.replace(f"127.0.0.1:{postgres_server.port}", address),
            webchat_auth="open",
        ) as stack:
            health = await stack.http.get("/healthz")
            assert health.status_code == 200 and health.json()["database"] == "ok"
            await relay.stop()  # every connection to PostgreSQL drops, and new ones are refused
            resp = await stack.http.post(
                "/webchat/api/messages", json={"channel": "general", "user": "ann", "text": "hello?"}
            )
            assert resp.status_code == 503 and resp.headers["Retry-After"] == "5"
            assert resp.json()["error"] == "the chat store is unavailable right now; please try again in a moment"
            health = await stack.http.get("/healthz")
            assert health.status_code == 503 and health.json()["status"] == "unavailable" and health.json()["database"]
        [line] = [r for r in caplog.records if r.name == "bots.gateway"]
        assert line.levelname == "WARNING" and line.exc_info is None
        assert line.getMessage().startswith("POST /webchat/api/messages: PostgreSQL is unreachable")
        assert not [r for r in caplog.records if r.levelno >= 40]
    finally:
        await relay.stop()


async def test_an_invite_made_by_the_cli_is_redeemed_by_any_gateway(tmp_path: Path, database_url: str):
    import os
    import subprocess
    import sys

    from adapters.webchat.invites import Invites
    from tests.support.processes import REPO

    env = {k: v for k, v in os.environ.items() if not k.startswith(("THREADWORK_", "TEMPORAL_"))}
    env.update(THREADWORK_DATABASE_URL=database_url, THREADWORK_DATA_DIR=str(tmp_path / "cli"))
    done = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "bots.cli", "webchat", "invite", "Ines", "--url", "https://chat.example"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    link = done.stdout.strip()
    assert link.startswith("https://chat.example/webchat/signin#")
    gateway = Storage(tmp_path / "gateway", database_url)  # another host: no shared data dir
    store = gateway.webchat_store()
    await store.open()
    try:
        assert await Invites(store).redeem(link.split("#", 1)[1]) == "Ines"
    finally:
        await store.close()
        await gateway.close()


async def test_gateways_on_postgresql_agree_on_a_generated_cookie_key(tmp_path: Path, database_url: str):
    """Without THREADWORK_WEBCHAT_SECRET, the first gateway's key is every gateway's (no shared data dir)."""
    gateways = [Storage(tmp_path / f"gateway-{n}", database_url) for n in range(4)]
    try:
        keys = await asyncio.gather(*(g.webchat_secret(None) for g in gateways))
        assert len(set(keys)) == 1 and len(keys[0]) >= 32
        assert not any((tmp_path / f"gateway-{n}").exists() for n in range(4))
        assert await gateways[0].webchat_secret("configured-key-of-this-gateway") == b"configured-key-of-this-gateway"
    finally:
        for g in gateways:
            await g.close()
