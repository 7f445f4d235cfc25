"""When Temporal is unreachable the thread hears "catching up" once; OAuth installs serve their workspace."""

from __future__ import annotations

import asyncio
import re
import uuid

import httpx
from aiohttp import web
from temporalio.client import Client

from adapters.base import CATCHING_UP_TEXT
from bots.config import Settings
from bots.gateway import build_app
from bots.queued_dispatch import gateway_dispatcher
from bots.wiring import build_platforms
from tests.slack.conftest import slack_stack
from tests.slack.fake_slack import BOT_TOKEN
from tests.slack.support import SIGNING_SECRET, SlackSim
from tests.support.stack import free_port
from workflows.data_converter import data_converter


async def test_unreachable_temporal_is_said_once_per_thread(tmp_path, fake_slack):
    dead = await Client.connect(f"127.0.0.1:{free_port()}", lazy=True, data_converter=data_converter)
    settings = Settings(
        data_dir=tmp_path,
        task_queue=f"tq-{uuid.uuid4().hex[:8]}",
        slack_bot_token=BOT_TOKEN,
        slack_signing_secret=SIGNING_SECRET,
        slack_api_url=fake_slack.api_url,
        queue_inline_timeout=1.0,
    )
    platforms = await build_platforms(settings)
    dispatcher = gateway_dispatcher(dead, settings)
    runner = web.AppRunner(build_app(dead, dispatcher, platforms))
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) as http:
            sim = SlackSim(http, fake_slack)
            root = await sim.mention("C1", "UALICE", "is anyone there?")
            notice = await fake_slack.wait_for(
                lambda: fake_slack.posts("C1", root["ts"]), what="the catching-up notice", timeout=40
            )
            assert notice[0]["text"] == CATCHING_UP_TEXT
            await sim.mention("C1", "UALICE", "still there?", thread_ts=root["ts"])
            # Both messages wait in the queue; the thread was told once.
            for _ in range(300):  # bolt runs the listener after its ack: wait (bounded) until it queued
                if (await dispatcher.stats()).depth == 2:
                    break
                await asyncio.sleep(0.1)
            assert (await dispatcher.stats()).depth == 2
            await asyncio.sleep(1.5)  # past the inline timeout: a second notice would have been posted by now
            assert [p["text"] for p in fake_slack.posts("C1", root["ts"])] == [CATCHING_UP_TEXT]
    finally:
        await runner.cleanup()
        await platforms.close()


async def test_oauth_install_then_events_of_that_workspace_use_its_token(client, tmp_path, fake_slack):
    fake_slack.oauth_codes["code-1"] = {
        "access_token": "xoxb-installed-t2",
        "token_type": "bot",
        "scope": "chat:write,commands",
        "bot_user_id": "UBOT2",
        "app_id": "A1",
        "team": {"id": "T2", "name": "Two"},
        "enterprise": None,
        "authed_user": {"id": "UADMIN"},
        "is_enterprise_install": False,
    }
    overrides = {"slack_bot_token": None, "slack_client_id": "111.222", "slack_client_secret": "oauth-secret"}
    async with slack_stack(client, tmp_path, fake_slack, **overrides) as (stack, _sim):
        page = await stack.http.get("/slack/install")
        assert page.status_code == 200
        link = (
            re.search(r'href="(https://slack.com/oauth/v2/authorize\?[^"]+)"', page.text).group(1).replace("&amp;", "&")
        )
        params = httpx.URL(link).params
        assert params["client_id"] == "111.222" and "chat:write" in params["scope"]
        state = params["state"]

        done = await stack.http.get(
            "/slack/oauth_redirect",
            params={"code": "code-1", "state": state},
            headers={"Cookie": f"slack-app-oauth-state={state}"},
        )
        assert done.status_code == 200, done.text
        assert fake_slack.calls_to("oauth.v2.access")[0].params["code"] == "code-1"

        # A forged state is refused.
        bad = await stack.http.get(
            "/slack/oauth_redirect",
            params={"code": "code-1", "state": "forged"},
            headers={"Cookie": "slack-app-oauth-state=forged"},
        )
        assert bad.status_code == 401  # bolt: invalid_state

        t2 = SlackSim(stack.http, fake_slack, team="T2")
        fake_slack.add_user("UCAROL", "Carol")
        root = await t2.mention("C9", "UCAROL", "hello from workspace two")
        await fake_slack.wait_for(lambda: fake_slack.posts("C9", root["ts"]), what="the reply in T2")
        calls = [c for c in fake_slack.calls if c.method in ("chat.startStream", "chat.stopStream", "chat.postMessage")]
        assert calls and {c.token for c in calls} == {"xoxb-installed-t2"}  # the reply, with T2's token
        assert (await stack.state(f"slack:T2:C9:{root['ts']}"))["message_count"] == 1
