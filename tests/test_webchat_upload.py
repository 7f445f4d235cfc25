"""Web chat file upload end to end: stored, served back, fetched from the data dir, summarized in the thread."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from adapters.webchat.upload_fetcher import WebChatUploadFetcher
from tests.support.documents import REPORT_TEXT
from tests.support.stack import Stack, running_stack
from workflows.activities.fetchers import FetchError
from workflows.contracts import FileRef


async def upload(stack: Stack, name: str, data: bytes, **fields: str):
    form = {"channel": "general", "user": "alice", **fields}
    http = await stack.user("alice")  # alice's browser; the form's user field is only a label
    return await http.post("/webchat/api/uploads", data=form, files={"file": (name, data, "text/markdown")})


async def wait_for_text(stack: Stack, thread: str, needle: str, timeout: float = 20) -> list[str]:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        texts = [m["text"] for m in await stack.bot_messages(thread)]
        if any(needle in t for t in texts):
            return texts
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"no bot message with {needle!r} in {thread}: {texts}")
        await asyncio.sleep(0.05)


async def test_uploaded_document_is_stored_served_and_summarized(stack):
    resp = await upload(stack, "report.md", REPORT_TEXT.encode(), text="our storage report")
    assert resp.status_code == 202, resp.text
    sent = resp.json()

    listed = (await stack.http.get("/webchat/api/channels/general/messages", params={"thread": sent["thread"]})).json()
    mine = next(m for m in listed if m["id"] == sent["message_id"])
    assert mine["text"] == "our storage report"
    [file] = mine["files"]
    assert (file["name"], file["size"], file["mimetype"]) == ("report.md", len(REPORT_TEXT.encode()), "text/markdown")
    served = await stack.http.get(file["url"])
    assert served.status_code == 200 and served.content == REPORT_TEXT.encode()
    assert served.headers["content-disposition"].startswith("attachment")

    texts = await wait_for_text(stack, sent["thread"], "Summary of report.md: Quarterly storage report")
    assert any("twelve percent" in t for t in texts), texts
    state = await stack.state(sent["session_id"])
    assert [w["workflow_type"] for w in state["triggered_workflows"]] == ["DocumentProcessingWorkflow"]


async def test_upload_without_caption_says_what_was_shared(stack):
    resp = await upload(stack, "notes.txt", b"Short notes\nThe deploy moved to Tuesday after the review.\n")
    assert resp.status_code == 202, resp.text
    [msg] = [m for m in await stack.store.messages("general", resp.json()["thread"]) if not m["is_bot"]]
    assert msg["text"] == "Shared notes.txt"


async def test_upload_over_the_limit_is_refused_and_nothing_is_kept(client, tmp_path: Path):
    async with running_stack(client, tmp_path, document_max_bytes=1024) as stack:
        resp = await upload(stack, "big.txt", b"a" * 5000)
        assert resp.status_code == 400
        assert (
            resp.json()["error"] == "big.txt: it is larger than the 1 KB document limit (THREADWORK_DOCUMENT_MAX_BYTES)"
        )
        assert await stack.store.messages("general") == []
        assert list((tmp_path / "webchat-uploads").iterdir()) == []


@pytest.mark.parametrize(
    ("fields", "name", "data", "reason"),
    [
        ({}, "empty.txt", b"", "file empty.txt is empty"),
        ({"channel": "nowhere"}, "a.txt", b"hello", "channel 'nowhere' does not exist"),
        (
            {"thread": "0123456789abcdef"},
            "a.txt",
            b"hello",
            "thread '0123456789abcdef' does not exist in channel 'general'",
        ),
        ({}, "../..", b"hello", "file name '../..' is not usable"),
        ({"user": ""}, "a.txt", b"hello", "user is required"),
    ],
)
async def test_bad_uploads_get_a_clear_reason(stack, fields, name, data, reason):
    resp = await upload(stack, name, data, **fields)
    assert resp.status_code == 400 and resp.json()["error"] == reason
    assert await stack.store.messages("general") == []


async def test_upload_without_a_file_or_as_json_is_refused(stack):
    no_file = await stack.http.post(
        "/webchat/api/uploads", data={"channel": "general", "user": "alice"}, files={"other": ("x", b"x")}
    )
    assert no_file.status_code == 400 and no_file.json()["error"] == "other is not a known field"
    only_fields = await stack.http.post(
        "/webchat/api/uploads",
        content=b'--b\r\nContent-Disposition: form-data; name="channel"\r\n\r\ngeneral\r\n--b--\r\n',
        headers={"Content-Type": "multipart/form-data; boundary=b"},
    )
    assert only_fields.status_code == 400 and only_fields.json()["error"] == "user is required"
    as_json = await stack.http.post("/webchat/api/uploads", json={"channel": "general"})
    assert as_json.status_code == 400 and as_json.json()["error"] == "body must be multipart/form-data"


async def test_missing_file_is_named(stack):
    resp = await stack.http.post(
        "/webchat/api/uploads",
        content=(
            b'--b\r\nContent-Disposition: form-data; name="channel"\r\n\r\ngeneral\r\n'
            b'--b\r\nContent-Disposition: form-data; name="user"\r\n\r\nalice\r\n--b--\r\n'
        ),
        headers={"Content-Type": "multipart/form-data; boundary=b"},
    )
    assert resp.status_code == 400 and resp.json()["error"] == "file is required"


async def test_path_in_the_file_name_is_dropped(stack, tmp_path: Path):
    resp = await upload(stack, "../../etc/passwd", b"root:x:0:0\n")
    assert resp.status_code == 202, resp.text
    [msg] = [m for m in await stack.store.messages("general", resp.json()["thread"]) if not m["is_bot"]]
    [file] = msg["files"]
    assert file["name"] == "passwd"
    assert (tmp_path / "webchat-uploads" / resp.json()["message_id"] / "passwd").read_bytes() == b"root:x:0:0\n"
    assert not (tmp_path / "etc").exists()
    assert (await stack.http.get(file["url"])).content == b"root:x:0:0\n"
    assert (
        await stack.http.get(f"/webchat/uploads/{resp.json()['message_id']}/..%2F..%2Fwebchat.sqlite3")
    ).status_code == 404


async def test_fetcher_reads_uploads_and_refuses_paths_outside_them(tmp_path: Path):
    folder = tmp_path / "webchat-uploads" / "0123456789abcdef"
    folder.mkdir(parents=True)
    (folder / "a.txt").write_bytes(b"inside")
    (tmp_path / "secret.txt").write_bytes(b"outside")
    fetcher = WebChatUploadFetcher(tmp_path)
    got = await fetcher.fetch(
        FileRef(name="a.txt", url="webchat-uploads/0123456789abcdef/a.txt", source="webchat"), 100
    )
    assert got.data == b"inside"
    for url in ("webchat-uploads/../secret.txt", str(tmp_path / "secret.txt"), "webchat-uploads", ""):
        with pytest.raises(FetchError, match="is not a web chat upload"):
            await fetcher.fetch(FileRef(name="x", url=url, source="webchat"), 100)
    with pytest.raises(FetchError, match="larger than the 4 bytes document limit"):
        await fetcher.fetch(FileRef(name="a.txt", url="webchat-uploads/0123456789abcdef/a.txt", source="webchat"), 4)


async def test_store_made_before_uploads_gains_the_files_column(tmp_path: Path):
    import sqlite3

    from adapters.webchat.store_sqlite import SqliteWebChatStore

    old = sqlite3.connect(tmp_path / "webchat.sqlite3")
    old.executescript(
        "CREATE TABLE messages (id TEXT PRIMARY KEY, channel TEXT NOT NULL, thread TEXT NOT NULL, user TEXT NOT NULL,"
        " is_bot INTEGER NOT NULL, text TEXT NOT NULL, blocks TEXT NOT NULL DEFAULT '[]', ts REAL NOT NULL,"
        " idempotency_key TEXT UNIQUE);"
        "INSERT INTO messages VALUES ('m1', 'general', 'm1', 'bo', 0, 'from before', '[]', 1.0, NULL);"
    )
    old.commit()
    old.close()
    store = SqliteWebChatStore(tmp_path / "webchat.sqlite3")
    await store.open()
    try:
        link = {"name": "a.txt", "url": "/webchat/uploads/x/a.txt", "size": 1, "mimetype": "text/plain"}
        await store.add_message(channel="general", thread="m1", user="bo", text="Shared a.txt", files=[link])
        assert [(m["text"], m["files"]) for m in await store.messages("general", "m1")] == [
            ("from before", []),
            ("Shared a.txt", [link]),
        ]
    finally:
        await store.close()
