"""Hostile input on every route: a few hundred malformed bodies each, never a 5xx, never a traceback.

Seeded (THREADWORK_FUZZ_SEED) so a failure reproduces; THREADWORK_FUZZ_PER_ROUTE sets the
count per route (CI runs a scaled-down count; docs/reliability.md "Hostile input" has the
full-size run). Afterwards the gateway must be healthy and answer a real message.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import json
import logging
import os
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any
from urllib.parse import urlencode

import pytest
from aiohttp import web

from tests.faults.conftest import slack_sign
from tests.faults.multipart_cases import multipart_cases
from tests.faults.mutator import Case, Mutator
from tests.slack.conftest import slack_stack
from tests.slack.fake_slack import BOT_USER, TEAM
from tests.support.events import AUTH, TOKEN, s3_record
from tests.support.httpserver import local_server
from tests.support.stack import free_port
from tests.teams.activities import activity, execute
from tests.teams.fake_connector import start_connector

SEED = int(os.environ.get("THREADWORK_FUZZ_SEED", "20261130"))
PER_ROUTE = int(os.environ.get("THREADWORK_FUZZ_PER_ROUTE", "40"))
CONCURRENCY = 8
REQUEST_TIMEOUT = 60.0
WORKER_LOGGERS = {"temporalio.activity", "temporalio.workflow"}
BAD_BYTES = b"Bearer \xff\xfe\xed\xa0\x80"  # not UTF-8

pytestmark = pytest.mark.timeout(900)


class Recorder(logging.Handler):
    """Every record at ERROR or above, and every record that carries a traceback."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.bad: list[logging.LogRecord] = []

        self.worker_side: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        # (DEBUG records with exc_info, which temporalio and botocore write, are not in a deployed log.)
        if record.levelno >= logging.ERROR or (record.exc_info and record.levelno >= logging.INFO):
            # temporalio logs every failed activity attempt with its traceback (an S3 object that
            # does not exist, a Slack channel that does not: well-formed events the worker cannot
            # act on): counted and reported, but they are the worker's, not the gateway's.
            (self.worker_side if record.name in WORKER_LOGGERS else self.bad).append(record)


@contextlib.contextmanager
def recording() -> Iterator[Recorder]:
    recorder = Recorder()
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(recorder)
    root.setLevel(logging.DEBUG)
    try:
        yield recorder
    finally:
        root.removeHandler(recorder)
        root.setLevel(old_level)


def fake_graph(app: web.Application, _recorded: list) -> None:
    """Microsoft Graph that knows every site and reports no changed files."""

    async def anything(request: web.Request) -> web.Response:
        return web.json_response({"id": "site-id", "value": []})

    app.router.add_get("/{tail:.*}", anything)


def slack_event() -> dict[str, Any]:
    ts = f"{int(time.time())}.000100"
    return {
        "token": "legacy",
        "team_id": TEAM,
        "api_app_id": "A1",
        "type": "event_callback",
        "event_id": "EvFUZZ",
        "event_time": int(time.time()),
        "authorizations": [{"team_id": TEAM, "user_id": BOT_USER, "is_bot": True}],
        "event": {
            "type": "app_mention",
            "channel": "C1",
            "user": "UALICE",
            "text": f"<@{BOT_USER}> hello",
            "ts": ts,
            "event_ts": ts,
        },
    }


def slack_click() -> dict[str, Any]:
    return {
        "type": "block_actions",
        "team": {"id": TEAM, "domain": "test"},
        "user": {"id": "UALICE", "username": "alice", "team_id": TEAM},
        "api_app_id": "A1",
        "token": "legacy",
        "container": {"type": "message", "message_ts": "1.000001", "channel_id": "C1", "is_ephemeral": False},
        "trigger_id": "trig-1",
        "channel": {"id": "C1", "name": "general"},
        "message": {"ts": "1.000001", "text": "x", "type": "message"},
        "response_url": "http://127.0.0.1:9/response",
        "actions": [
            {
                "type": "button",
                "action_id": "approve",
                "block_id": "b1",
                "text": {"type": "plain_text", "text": "Approve"},
                "value": "incident:x|approve|",
                "action_ts": "1.0",
            }
        ],
    }


def slack_command() -> dict[str, Any]:
    return {
        "token": "legacy",
        "team_id": TEAM,
        "channel_id": "C1",
        "user_id": "UALICE",
        "command": "/threadwork",
        "text": "workflows",
        "api_app_id": "A1",
        "response_url": "http://127.0.0.1:9/response",
        "trigger_id": "trig-2",
    }


def as_form(value: Any) -> bytes:
    if isinstance(value, dict):
        return urlencode({k: v if isinstance(v, str) else json.dumps(v) for k, v in value.items()}).encode()
    return json.dumps(value).encode()


def as_payload_form(value: Any) -> bytes:
    return urlencode({"payload": json.dumps(value)}).encode()


def event_bases(graph_url: str) -> dict[str, tuple[str, Any]]:
    alert = {
        "status": "firing",
        "labels": {"alertname": "FuzzAlert", "severity": "critical"},
        "annotations": {"summary": "fuzz"},
        "startsAt": "2026-11-26T00:50:00Z",
        "endsAt": "0001-01-01T00:00:00Z",
        "fingerprint": "f0220000fuzz",
    }
    return {
        "/events/s3": (
            "application/json",
            {"Records": [s3_record("ObjectCreated:Put", "fuzz-bucket", "a/b.pdf", "00AA", 10)]},
        ),
        "/events/azure-blob": (
            "application/json",
            [
                {
                    "id": "fuzz-1",
                    "topic": "/subscriptions/s/resourceGroups/g/providers/Microsoft.Storage/storageAccounts/acct",
                    "subject": "/blobServices/default/containers/c/blobs/a.pdf",
                    "eventType": "Microsoft.Storage.BlobCreated",
                    "eventTime": "2026-11-26T01:00:00Z",
                    "dataVersion": "",
                    "metadataVersion": "1",
                    "data": {
                        "api": "PutBlob",
                        "contentType": "application/pdf",
                        "blobType": "BlockBlob",
                        "url": "https://acct.blob.core.windows.net/c/a.pdf",
                        "sequencer": "01",
                    },
                }
            ],
        ),
        "/events/sharepoint": (
            "application/json",
            {
                "value": [
                    {
                        "subscriptionId": "sub-1",
                        "clientState": TOKEN,
                        "resource": "list-fuzz",
                        "tenantId": "t",
                        "siteUrl": "/sites/fuzz",
                        "webId": "w",
                    }
                ]
            },
        ),
        "/events/alertmanager": (
            "application/json",
            {
                "version": "4",
                "groupKey": "fuzz",
                "status": "firing",
                "receiver": "threadwork",
                "groupLabels": {},
                "commonLabels": {},
                "commonAnnotations": {},
                "externalURL": "http://am.local",
                "alerts": [alert],
            },
        ),
        "/events/webhook/deploy": (
            "application/json",
            {
                "service": "billing",
                "version": "v1",
                "environment": "staging",
                "requested_by": "fuzz",
                "callback_url": f"{graph_url}/callback",
            },
        ),
    }


@contextlib.asynccontextmanager
async def fuzz_stack(client, tmp_path, fake_slack) -> AsyncIterator[tuple[Any, str, str]]:
    connector, connector_runner = await start_connector()
    connector.members["29:alice"] = {"id": "29:alice", "name": "Alice Example", "userRole": "user"}
    try:
        async with (
            local_server(fake_graph) as graph,
            slack_stack(
                client,
                tmp_path,
                fake_slack,
                teams_enabled=True,
                teams_service_url=connector.url,
                events_token=TOKEN,
                graph_base_url=graph.base_url,
                graph_token="graph-token",
                aws_endpoint_url=f"http://127.0.0.1:{free_port()}",
            ) as (stack, _sim),
        ):
            yield stack, connector.url, graph.base_url
    finally:
        await connector_runner.cleanup()


async def test_no_hostile_body_gets_a_5xx_or_a_traceback(client, tmp_path, fake_slack, monkeypatch):
    # Accepted S3 events make the worker fetch: from a closed loopback port, never AWS (no credential lookups either).
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    mutator = Mutator(SEED)
    statuses: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    failures: list[str] = []
    with recording() as log:
        async with fuzz_stack(client, tmp_path, fake_slack) as (stack, connector_url, graph_url):
            first = await stack.say("hello before the fuzz", user="fuzz-base")
            anchor = (await stack.wait_bot_messages(first["thread"], 1))[0]

            plan: list[tuple[str, str, dict[str, str], Case]] = []

            def add(route: str, path: str, headers: dict[str, str], cases) -> None:
                plan.extend((route, path, headers, case) for case in cases)

            webchat_msg = {"channel": "general", "thread": None, "user": "fuzzer", "text": "hello"}
            add(
                "webchat messages",
                "/webchat/api/messages",
                {},
                mutator.cases(webchat_msg, "application/json", PER_ROUTE),
            )
            action = {
                "channel": "general",
                "message_id": anchor["id"],
                "action_id": "end",
                "value": "",
                "user": "fuzzer",
            }
            add("webchat actions", "/webchat/api/actions", {}, mutator.cases(action, "application/json", PER_ROUTE))
            add("webchat uploads", "/webchat/api/uploads", {}, multipart_cases(mutator, PER_ROUTE))

            for base, ctype, enc in [
                (slack_event(), "application/json", None),
                (slack_click(), "application/x-www-form-urlencoded", as_payload_form),
                (slack_command(), "application/x-www-form-urlencoded", as_form),
            ]:
                n = PER_ROUTE // 3 + 1
                add("/slack/events unsigned", "/slack/events", {"unsigned": "1"}, mutator.cases(base, ctype, n, enc))
                add("/slack/events signed", "/slack/events", {"sign": "1"}, mutator.cases(base, ctype, n, enc))

            data = {"threadwork": 1, "workflow_id": "teams:tenant-1:a:fuzz-conversation", "action_id": "end"}
            fixed = {"timestamp": "2026-11-30T00:00:00.000000+00:00"}  # the same bytes every run
            for teams in [
                activity(connector_url, "a:fuzz-conversation", text="hello", activity_id="act-fuzz-1", **fixed),
                execute(
                    connector_url, "a:fuzz-conversation", data, card_id="card-1", activity_id="act-fuzz-2", **fixed
                ),
                activity(
                    connector_url,
                    "a:fuzz-conversation",
                    type="conversationUpdate",
                    membersAdded=[{"id": "29:alice"}],
                    activity_id="act-fuzz-3",
                    **fixed,
                ),
            ]:
                add(
                    "/api/messages (anonymous)",
                    "/api/messages",
                    {},
                    mutator.cases(teams, "application/json", PER_ROUTE // 3 + 1),
                )

            for path, (ctype, base) in event_bases(graph_url).items():
                with_token = {} if path == "/events/sharepoint" else AUTH
                add(f"{path} with token", path, with_token, mutator.cases(base, ctype, PER_ROUTE))
                if path == "/events/sharepoint":
                    forged = json.loads(json.dumps(base).replace(TOKEN, "not-the-token"))
                    add(f"{path} without token", path, {}, mutator.cases(forged, ctype, PER_ROUTE))
                else:
                    add(f"{path} without token", path, {}, mutator.cases(base, ctype, PER_ROUTE))

            gate = asyncio.Semaphore(CONCURRENCY)

            async def send(route: str, path: str, extra: dict[str, str], case: Case) -> None:
                headers: dict[str, str | bytes] = {k: v for k, v in extra.items() if k not in ("sign", "unsigned")}
                if case.content_type is not None:
                    headers["Content-Type"] = case.content_type
                if "sign" in extra:
                    headers.update(slack_sign(case.body))
                elif "unsigned" in extra and mutator.rng.random() < 0.5:
                    headers.update(
                        mutator.rng.choice(
                            [
                                slack_sign(case.body, secret="wrong-secret"),
                                {"X-Slack-Request-Timestamp": "abc", "X-Slack-Signature": "v0=00"},
                                {"X-Slack-Request-Timestamp": "9" * 40, "X-Slack-Signature": "v0=00"},
                                {"X-Slack-Request-Timestamp": str(int(time.time())), "X-Slack-Signature": "v0=\u00e9"},
                            ]
                        )
                    )
                elif route.endswith("without token") and mutator.rng.random() < 0.5:
                    headers["Authorization"] = mutator.rng.choice(
                        ["Bearer wrong", "Bearer", "Basic abc", "Bearer \u00e9t\u00e9", BAD_BYTES]
                    )
                # Non-ASCII header values go as raw UTF-8 bytes (or the raw bytes themselves), as a hostile client sends them.
                raw_headers = {
                    k: v if isinstance(v, bytes) else v.encode() if not v.isascii() else v for k, v in headers.items()
                }
                async with gate:
                    try:
                        resp = await stack.http.post(
                            path, content=case.body, headers=raw_headers, timeout=REQUEST_TIMEOUT
                        )
                    except Exception as err:  # a dropped connection is as bad as a 500
                        statuses[route]["error"] += 1
                        failures.append(f"{route}: {case!r} -> {type(err).__name__}: {err}")
                        return
                statuses[route][resp.status_code] += 1
                if resp.status_code >= 500:
                    failures.append(f"{route}: {case!r} -> {resp.status_code} {resp.text[:200]}")

            await asyncio.gather(*(send(*item) for item in plan))

            health = await stack.http.get("/healthz")
            assert health.status_code == 200, health.text
            after = await stack.say("hello after the fuzz", user="fuzz-after")
            assert (await stack.wait_bot_messages(after["thread"], 1, timeout=60))[0]["is_bot"]

    report = {route: dict(sorted(c.items(), key=str)) for route, c in sorted(statuses.items())}
    total = sum(sum(c.values()) for c in statuses.values())
    tracebacks = [f"{r.name} {r.levelname}: {r.getMessage()[:300]} {_exc_line(r)}" for r in log.bad]
    print(
        f"\nfuzz seed={SEED} per_route={PER_ROUTE} requests={total} 5xx={len(failures)} "
        f"gateway tracebacks/errors={len(tracebacks)} failed activity attempts (worker)={len(log.worker_side)}"
    )
    for route, counts in report.items():
        print(f"  {route}: {counts}")
    for record in log.worker_side[:5]:
        print(f"  worker: {record.name} {record.levelname}: {record.getMessage()[:160]} {_exc_line(record)[:160]}")
    assert not failures and not tracebacks, "\n".join(failures[:30] + tracebacks[:30])


def _exc_line(record: logging.LogRecord) -> str:
    if not record.exc_info or record.exc_info[1] is None:
        return ""
    err = record.exc_info[1]
    tb = err.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    where = f"{tb.tb_frame.f_code.co_filename}:{tb.tb_lineno}" if tb is not None else ""
    return f"[{type(err).__name__}: {str(err)[:200]} at {where}]"
