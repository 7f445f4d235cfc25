"""Routing rules of Slack messages and the users.info cache (pure / in-process parts)."""

from __future__ import annotations

from adapters.slack.mapping import route, strip_mention
from adapters.slack.users import ActorCache, actor_from_user


def ev(**kw):
    return {
        "type": "message",
        "channel": "C1",
        "channel_type": "channel",
        "user": "U1",
        "text": "hi",
        "ts": "2.0",
        **kw,
    }


def test_routing_rules():
    assert route(ev(), "T", "UBOT").key is None  # top level, no mention
    top = route(ev(text="<@UBOT> hi"), "T", "UBOT")
    assert top.key.session_id() == "slack:T:C1:2.0" and not top.needs_existing_session
    reply = route(ev(thread_ts="1.0"), "T", "UBOT")
    assert reply.key.session_id() == "slack:T:C1:1.0" and reply.needs_existing_session
    assert not route(ev(thread_ts="1.0", text="<@UBOT> x"), "T", "UBOT").needs_existing_session
    assert route(ev(thread_ts="2.0", text="<@UBOT> x"), "T", "UBOT").key.thread == "2.0"  # a root with thread_ts = ts
    assert route(ev(channel="D1", channel_type="im"), "T", "UBOT").key.session_id() == "slack:T:D1:dm"
    assert route(ev(channel="D1", channel_type="im", thread_ts="1.0"), "T", "UBOT").key.session_id() == "slack:T:D1:1.0"
    for ignored in (
        ev(user="UBOT", text="<@UBOT>"),
        ev(bot_id="B1", text="<@UBOT>"),
        ev(subtype="message_changed"),
        ev(subtype="channel_join", text="<@UBOT> joined"),
        ev(user=None, text="<@UBOT>"),
    ):
        assert route(ignored, "T", "UBOT").key is None
    assert route(ev(subtype="file_share", text="<@UBOT> summarize this"), "T", "UBOT").key is not None


def test_strip_mention():
    assert strip_mention("<@UBOT> help", "UBOT") == "help"
    assert strip_mention("hey <@UBOT|threadwork> status", "UBOT") == "hey  status"
    assert strip_mention("<@UOTHER> hi", "UBOT") == "<@UOTHER> hi"


async def test_actor_cache_expires_and_survives_errors():
    now = [0.0]

    class Client:
        calls = 0
        guest = False
        fail = False

        async def users_info(self, user):
            Client.calls += 1
            if Client.fail:
                raise OSError("down")
            return {
                "user": {"id": user, "name": "gus", "is_restricted": Client.guest, "profile": {"display_name": "Gus"}}
            }

    cache = ActorCache(ttl=60, clock=lambda: now[0])
    actor = await cache.actor(Client(), "T", "U1")
    assert (actor.name, actor.is_guest) == ("Gus", False)
    Client.guest = True
    assert (await cache.actor(Client(), "T", "U1")).is_guest is False and Client.calls == 1  # cached
    now[0] = 61
    assert (await cache.actor(Client(), "T", "U1")).is_guest is True and Client.calls == 2  # expired: asked again
    now[0] = 200
    Client.fail = True
    assert (await cache.actor(Client(), "T", "U1")).is_guest is True  # stale beats nothing
    assert (await cache.actor(Client(), "T", "U2")).id == "U2"  # unknown and unreachable: id only
    assert actor_from_user({"id": "U3", "is_ultra_restricted": True}).is_guest is True
