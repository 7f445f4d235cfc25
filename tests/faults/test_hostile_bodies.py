"""Named hostile bodies per route, each with the 4xx and reason it must get (the fuzz test finds the rest)."""

from __future__ import annotations

import json
import logging

import pytest
import pytest_asyncio

from tests.faults.conftest import slack_sign
from tests.faults.multipart_cases import BOUNDARY, part
from tests.slack.conftest import slack_stack
from tests.support.events import AUTH, TOKEN
from tests.support.stack import free_port, running_stack
from tests.teams.activities import activity
from tests.teams.fake_connector import start_connector

DEEP = b"[" * 1000 + b"]" * 1000
HUGE = b'{"n": ' + b"9" * 5000 + b"}"
SURROGATE = b'{"channel": "general", "thread": null, "user": "al", "text": "hi \\ud800"}'


@pytest_asyncio.fixture
async def slack(client, tmp_path, fake_slack):
    async with slack_stack(client, tmp_path, fake_slack) as pair:
        yield pair


async def test_slack_signature_is_checked_before_the_body_is_parsed(slack):
    stack, _sim = slack
    unsigned = [
        (b"[1, 2]", "application/json"),
        (b'"text"', "application/json"),
        (b"\xff\xfe{}", "application/json"),
        (DEEP, "application/json"),
        (HUGE, "application/json"),
        (b"payload=%5B1%5D", "application/x-www-form-urlencoded"),
    ]
    for body, ctype in unsigned:
        resp = await stack.http.post("/slack/events", content=body, headers={"Content-Type": ctype})
        assert resp.status_code == 401, (body[:20], resp.text)
        junk = {"X-Slack-Request-Timestamp": "not-a-number", "X-Slack-Signature": "v0=00"}
        assert (
            await stack.http.post("/slack/events", content=body, headers={"Content-Type": ctype, **junk})
        ).status_code == 401
    signed = [
        (b"[1, 2]", "application/json", "must be a JSON object, not an array"),
        (b"\xff\xfe{}", "application/json", "not valid UTF-8"),
        (DEEP, "application/json", "deeper than 64 levels"),
        (HUGE, "application/json", "more than 100 digits"),
        (b"payload=%5B1%5D", "application/x-www-form-urlencoded", "payload must be a JSON object"),
        (
            b'payload={"type":"block_actions","actions":[{"action_id":5}]}',
            "application/x-www-form-urlencoded",
            "actions.0.action_id",
        ),
        (b'{"type":"event_callback","event":{"type":"message","channel":["C1"]}}', "application/json", "event.channel"),
        (b"{}", "application/json; charset=klingon", "charset 'klingon' is unknown"),
    ]
    for body, ctype, reason in signed:
        resp = await stack.http.post("/slack/events", content=body, headers={"Content-Type": ctype, **slack_sign(body)})
        assert resp.status_code in (400, 415) and reason in resp.json()["error"], (body[:40], resp.text)


async def test_sharepoint_checks_client_state_before_the_body_is_trusted(client, tmp_path):
    async with running_stack(client, tmp_path, events_token=TOKEN) as stack:
        forged = [
            {"value": [{"clientState": "wrong"}]},
            {"value": [{"clientState": TOKEN}, {"resource": 5}]},
            {"value": "x"},
            {"value": []},
            {"nothing": 1},
        ]
        for body in forged:  # malformed, but never authenticated: 401, not a 400 that describes the schema
            resp = await stack.http.post("/events/sharepoint", json=body)
            assert resp.status_code == 401, (body, resp.text)
        resp = await stack.http.post("/events/sharepoint", json={"value": [{"clientState": TOKEN, "resource": ""}]})
        assert resp.status_code == 400 and "resource" in resp.json()["error"]
        handshake = await stack.http.post("/events/sharepoint?validationtoken=abc", content=b"\xff" + DEEP)
        assert handshake.status_code == 200 and handshake.text == "abc"


@pytest.mark.parametrize(
    "path", ["/events/s3", "/events/azure-blob", "/events/alertmanager", "/events/webhook/deploy", "/events/sharepoint"]
)
async def test_event_routes_refuse_what_breaks_json_parsers(client, tmp_path, path):
    async with running_stack(client, tmp_path, events_token=TOKEN) as stack:
        for body, ctype, status, reason in [
            (DEEP, "application/json", 400, "deeper than 64 levels"),
            (HUGE, "application/json", 400, "more than 100 digits"),
            (b"{}", "application/json; charset=klingon", 415, "unknown"),
            (b'{"a": "\\udc00"}', "text/plain", 400, "lone UTF-16 surrogate"),
            (b"\xc3", "application/json", 400, "not valid UTF-8"),
        ]:
            resp = await stack.http.post(path, content=body, headers={"Content-Type": ctype, **AUTH})
            assert (resp.status_code, reason in resp.json()["error"]) == (status, True), (path, body[:20], resp.text)
        if path != "/events/sharepoint":  # a token that is not UTF-8 is a wrong token, not a crash
            resp = await stack.http.post(path, content=b"{}", headers={"Authorization": b"Bearer \xff\xfe"})
            assert resp.status_code == 401


async def test_sns_message_is_read_like_a_body(client, tmp_path):
    async with running_stack(client, tmp_path, events_token=TOKEN) as stack:
        envelope = {"Type": "Notification", "MessageId": "m1", "Message": "[" * 5000 + "]" * 5000}
        resp = await stack.http.post("/events/s3", json=envelope, headers=AUTH)
        assert resp.status_code == 400 and "SNS Message nests deeper" in resp.json()["error"]


async def test_webchat_refuses_surrogates_depth_and_charsets_and_stores_nothing(stack):
    for body, ctype, status, reason in [
        (SURROGATE, "application/json", 400, "lone UTF-16 surrogate"),
        (DEEP, "application/json", 400, "deeper than 64 levels"),
        (HUGE, "application/json", 400, "more than 100 digits"),
        (b"{}", "application/json; charset=klingon", 415, "charset 'klingon' is unknown"),
        (b"{}", "application/json; charset=utf-16", 415, "not supported"),
        (b"A" * (3 * 1024 * 1024), "application/json", 413, "limit"),
    ]:
        for path in ("/webchat/api/messages", "/webchat/api/actions"):
            resp = await stack.http.post(path, content=body, headers={"Content-Type": ctype})
            assert (resp.status_code, reason in resp.json()["error"]) == (status, True), (path, body[:20], resp.text)
    assert await stack.store.messages("general") == []
    resp = await stack.http.get("/webchat/api/stream?after=" + "9" * 30)
    assert resp.status_code == 400 and "out of range" in resp.json()["error"]


async def test_broken_multipart_is_a_400_while_parts_are_read(stack):
    ctype = f"multipart/form-data; boundary={BOUNDARY}"
    opened = (
        part("channel", b"general") + b"--" + BOUNDARY.encode() + b'\r\nContent-Disposition: form-data; name="user"\r\n'
    )
    for body, reason in [
        (opened, "not valid multipart/form-data"),  # the headers of the second part never end
        (part("channel", b"general") + b"garbage without a closing boundary", "not valid multipart/form-data"),
        (
            part("file", b"x", filename="a.txt", headers=b"Content-Type: multipart/mixed; boundary=inner\r\n")
            + b"--"
            + BOUNDARY.encode()
            + b"--\r\n",
            "nested multipart",
        ),
    ]:
        resp = await stack.http.post("/webchat/api/uploads", content=body, headers={"Content-Type": ctype})
        assert resp.status_code == 400 and reason in resp.json()["error"], (body[:60], resp.text)
    resp = await stack.http.post(
        "/webchat/api/uploads", content=b"x", headers={"Content-Type": "multipart/form-data; boundary=" + "b" * 100}
    )
    assert resp.status_code == 400


async def test_teams_activities_botbuilder_cannot_take_are_400(client, tmp_path, caplog):
    connector, runner = await start_connector()
    try:
        async with running_stack(client, tmp_path, teams_enabled=True, teams_service_url=connector.url) as stack:
            base = activity(connector.url, "a:hostile", text="hi")
            without_from = {k: v for k, v in base.items() if k != "from"}
            for body, reason in [
                (without_from, "activity.from: is required"),
                ({**base, "timestamp": "yesterday"}, "cannot be deserialized"),
                ({**base, "entities": "x"}, "activity.entities"),
                ({**base, "conversation": {"id": 5}}, "activity.conversation.id"),
                ({**base, "from": {"id": ["29:alice"]}}, "activity.from.id"),
                ({**base, "channelData": {"tenant": "t"}}, "activity.channelData.tenant"),
                ({**base, "serviceUrl": "not a url"}, "activity.serviceUrl"),
                (
                    {**base, "attachments": [{"contentType": "x", "content": {"downloadUrl": 5}}]},
                    "downloadUrl must be a string",
                ),
            ]:
                resp = await stack.http.post(
                    "/api/messages", content=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
                )
                assert resp.status_code == 400 and reason in resp.json()["error"], (reason, resp.text)
            resp = await stack.http.post("/api/messages", content=DEEP, headers={"Content-Type": "application/json"})
            assert resp.status_code == 400 and "deeper" in resp.json()["error"]
            assert connector.calls == []  # nothing reached the bot

            # Well-formed, but naming what the connector does not know, or (anonymous mode) a
            # serviceUrl nobody answers at: an answer and one WARNING line, not a 500 and a traceback.
            caplog.clear()
            for body, status, reason in [
                ({**base, "type": "invoke", "name": "no/such-invoke"}, 400, "invoke activity is not supported"),
                (
                    {**base, "type": "conversationUpdate", "membersAdded": [{"id": "29:nobody"}]},
                    400,
                    "Bot Connector answered 404",
                ),
                (
                    {**base, "text": "", "serviceUrl": f"http://127.0.0.1:{free_port()}"},
                    400,
                    "at the activity's serviceUrl",
                ),
            ]:
                resp = await stack.http.post(
                    "/api/messages", content=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
                )
                assert resp.status_code == status and reason in resp.json()["error"], (body["type"], resp.text)
            assert [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR] == []
    finally:
        await runner.cleanup()


async def test_anonymous_teams_activities_may_only_name_a_loopback_or_the_configured_service_url(client, tmp_path):
    """Without TEAMS_APP_ID nobody proves who sent an activity: it must not make the gateway post elsewhere."""
    connector, runner = await start_connector()
    try:
        async with running_stack(client, tmp_path, teams_enabled=True, teams_service_url=connector.url) as stack:
            base = activity(connector.url, "a:ssrf", text="hi")
            for elsewhere in (
                "http://169.254.169.254/latest/",
                "https://internal.example.com/",
                "http://10.0.0.7:8080",
            ):
                resp = await stack.http.post(
                    "/api/messages",
                    content=json.dumps({**base, "serviceUrl": elsewhere}).encode(),
                    headers={"Content-Type": "application/json"},
                )
                assert resp.status_code == 400 and "only a loopback serviceUrl" in resp.json()["error"], resp.text
            assert connector.calls == []
            # The configured TEAMS_SERVICE_URL (here the loopback fake) still works.
            resp = await stack.http.post(
                "/api/messages", content=json.dumps(base).encode(), headers={"Content-Type": "application/json"}
            )
            assert resp.status_code in (200, 201), resp.text
            await connector.wait_for(lambda: connector.posts("a:ssrf"), 1, timeout=60)
    finally:
        await runner.cleanup()


def test_anonymous_service_url_rule():
    from adapters.teams.anonymous_service_url import anonymous_refusal

    smba = "https://smba.trafficmanager.net/teams/"
    assert anonymous_refusal("http://localhost:3978/", smba) is None
    assert anonymous_refusal("http://127.0.0.1:9/", "") is None
    assert anonymous_refusal("http://[::1]:9/", "") is None
    assert anonymous_refusal("https://smba.trafficmanager.net/emea/", smba) is None  # the operator's own origin
    assert anonymous_refusal("https://smba.trafficmanager.net.evil.example/", smba) is not None
    assert anonymous_refusal("http://localhost.evil.example/", smba) is not None
    assert anonymous_refusal("http://127.0.0.1.nip.io/", "") is not None
