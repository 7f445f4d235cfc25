"""The one delivery-to-user policy every adapter follows (adapters/user_notice.py), and adapters' own settings."""

from __future__ import annotations

import logging

from adapters.slack.adapter import SlackAdapter, SlackSettings
from adapters.user_notice import CATCHING_UP_TEXT, UNAVAILABLE_TEXT, Notice, deliver_and_tell, http_status
from bots.adapters import adapter_settings
from bots.config import Settings
from workflows.contracts import Actor, ChatMessage, ConversationKey
from workflows.platform_port import Delivery

KEY = ConversationKey(platform="webchat", channel="general", thread="t1")
MSG = ChatMessage(key=KEY, actor=Actor(id="alice"), text="hi", message_id="m1")


class Answers:
    """A dispatcher that answers ``result``, or raises it."""

    def __init__(self, result: Delivery | Exception) -> None:
        self.result = result

    async def deliver(self, msg: ChatMessage) -> Delivery:
        if isinstance(self.result, Exception):
            raise self.result
        return self.result


async def told(result: Delivery | Exception) -> tuple[Delivery, list[Notice]]:
    said: list[Notice] = []

    async def tell(notice: Notice) -> None:
        said.append(notice)

    return await deliver_and_tell(Answers(result), MSG, tell), said  # type: ignore[arg-type]


async def test_each_delivery_becomes_what_the_user_hears_and_an_http_status():
    sid = MSG.key.session_id()
    result, said = await told(Delivery(Delivery.ACCEPTED, sid))
    assert said == [] and http_status(result) == 202
    result, said = await told(Delivery(Delivery.QUEUED, sid, notify=True))
    assert said == [Notice(CATCHING_UP_TEXT, status=Delivery.QUEUED)] and http_status(result) == 202
    assert (await told(Delivery(Delivery.QUEUED, sid, notify=False)))[1] == []  # said once per outage
    result, said = await told(Delivery(Delivery.INVALID, sid, "too long"))
    assert said == [Notice("I couldn't take that message: too long", private=True, status=Delivery.INVALID)]
    assert http_status(result) == 400
    result, said = await told(Delivery(Delivery.UNAVAILABLE, sid))
    assert said == [Notice(UNAVAILABLE_TEXT, status=Delivery.UNAVAILABLE)] and http_status(result) == 503


async def test_a_dispatcher_that_raises_is_logged_and_the_user_hears_unavailable(caplog):
    with caplog.at_level(logging.ERROR, logger="adapters.user_notice"):
        result, said = await told(RuntimeError("boom"))
    assert result.status == Delivery.UNAVAILABLE and result.session_id == "webchat:general:t1"
    assert said == [Notice(UNAVAILABLE_TEXT, status=Delivery.UNAVAILABLE)]
    [record] = caplog.records
    assert "delivering m1 to webchat:general:t1 failed" in record.getMessage() and record.exc_info is not None


def test_an_adapter_reads_its_env_and_values_given_to_the_process_settings_win(monkeypatch, tmp_path):
    monkeypatch.setenv("SLACK_SIGNING_SECRET", "from-env")
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-env")
    own = adapter_settings(SlackAdapter, Settings(data_dir=tmp_path, slack_bot_token="xoxb-given"))
    assert isinstance(own, SlackSettings) and SlackAdapter.enabled(own)
    assert (own.slack_signing_secret, own.slack_bot_token) == ("from-env", "xoxb-given")
    monkeypatch.delenv("SLACK_SIGNING_SECRET")
    assert not SlackAdapter.enabled(adapter_settings(SlackAdapter, Settings(data_dir=tmp_path)))
