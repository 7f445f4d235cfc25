"""A platform added from tests/ only (tests/toy_platform): sessions, a child's progress and an incident work on it.

It is registered the way a plugin is, by THREADWORK_ADAPTERS, with its own settings (TOY_*);
nothing outside tests/ names it. Unknown platforms fail loudly instead of passing as another one.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from bots.adapters import BUILTIN_ADAPTERS, load_adapter
from bots.errors import StartupError
from tests.fake_openai import fake_openai
from tests.support.helpers import eventually
from tests.support.httpserver import local_server, serve_files
from tests.support.stack import Stack, running_stack
from tests.toy_platform import ToyAdapter, ToyPlatform
from workflows.contracts import ConversationKey
from workflows.incident import IncidentWorkflow
from workflows.platform_port import StreamingPlatform
from workflows.platform_traits import LEGACY_TRAITS, UnknownPlatform, traits_for

TOKEN = "toy-secret"


@pytest.fixture
def toy_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("THREADWORK_ADAPTERS", "tests.toy_platform:ToyAdapter")
    monkeypatch.setenv("TOY_ENABLED", "1")
    monkeypatch.setenv("TOY_TOKEN", TOKEN)


async def say(stack: Stack, text: str, *, room: str = "lobby", user: str = "alice") -> dict[str, Any]:
    message = {"room": room, "user": user, "text": text, "id": f"toy-{uuid.uuid4().hex}"}
    async with httpx.AsyncClient(base_url=stack.base_url, timeout=30) as http:
        resp = await http.post("/toy/messages", json=message, headers={"X-Toy-Token": TOKEN})
    assert resp.status_code == 202, resp.text
    return resp.json()


def toy(stack: Stack) -> ToyPlatform:
    platform = stack.platforms.registry.get("toy")
    assert isinstance(platform, ToyPlatform)
    return platform


async def test_a_session_a_child_workflows_progress_and_an_incident_on_a_platform_registered_from_tests(
    client, tmp_path, toy_env
):
    async with running_stack(client, tmp_path) as stack:
        assert isinstance(stack.platforms.adapters["toy"], ToyAdapter)
        platform = toy(stack)

        # A session: the reply comes back through the toy platform, in the room (no threads).
        sent = await say(stack, "hello")
        assert sent["session_id"] == "toy:lobby:main"
        await eventually(lambda: _texts(platform, "lobby"), lambda t: len(t) >= 1, what="the reply")
        state = await stack.state("toy:lobby:main")
        assert state["platform"] == "toy" and state["message_count"] == 1

        # A child workflow (documents) reports its progress into the same room: the toy has no threads.
        notes = serve_files({"/notes.txt": (b"The toy platform works.\nIt has no threads.", "text/plain")})
        async with local_server(notes) as server:
            await say(stack, f"summarize {server.base_url}/notes.txt")
            texts = await eventually(
                lambda: _texts(platform, "lobby"),
                lambda t: any(x.startswith("Processed notes.txt") for x in t),
                what="the finished progress message",
            )
        assert "Processed notes.txt: 1 summarized, 0 failed." in texts, texts
        assert any(x.startswith("Summary of notes.txt: The toy platform works.") for x in texts), texts
        assert all(p.key.thread is None for p in platform.posts), "a platform without threads keeps posts in the room"

        # An incident: a new room named by the toy's own channel-name rule, its card pinned, a link in the lobby.
        await say(stack, "we have a critical incident: payments are down", room="ops")
        room = await eventually(lambda: _rooms(platform), lambda r: len(r) == 1, what="the incident room")
        today = datetime.now(UTC).strftime("%Y%m%d")
        assert room[0].name == f"inc-{today}-Payments-are"  # mixed case, 28 characters at most: ToyAdapter.traits
        card = await eventually(lambda: _texts(platform, room[0].channel), lambda t: len(t) >= 1, what="the card")
        assert "Payments are down" in card[0]
        await eventually(_pinned(platform), lambda pins: len(pins) == 1, what="the pinned card")  # it declares pins
        await eventually(lambda: _texts(platform, "ops"), lambda t: any(room[0].name in x for x in t), what="the link")
        incident_id = next(w["workflow_id"] for w in (await stack.state("toy:ops:main"))["triggered_workflows"])
        incident = await stack.client.get_workflow_handle(incident_id).query(IncidentWorkflow.get_incident_state)
        assert incident.conversation.platform == "toy" and incident.severity == "SEV1"


async def _texts(platform: ToyPlatform, room: str) -> list[str]:
    return platform.texts(room)


def _pinned(platform: ToyPlatform):
    async def probe() -> list[str]:
        return list(platform.pinned)

    return probe


async def _rooms(platform: ToyPlatform) -> list[Any]:
    return list(platform.rooms)


def test_an_unknown_platform_fails_loudly_with_what_is_registered():
    with pytest.raises(UnknownPlatform, match=r"'discord'.*registered: .*slack.*THREADWORK_ADAPTERS"):
        ConversationKey(platform="discord", channel="C1").session_id()
    with pytest.raises(UnknownPlatform, match="'discord'"):
        ConversationKey.from_session_id("discord:C1:T1")
    with pytest.raises(UnknownPlatform, match="'discord' is not declared"):
        traits_for({"slack": LEGACY_TRAITS["slack"]}, "discord")
    with pytest.raises(StartupError, match="could not be loaded"):
        load_adapter("tests.toy_platform:NoSuchAdapter")
    with pytest.raises(StartupError, match="not module:Class"):
        load_adapter("tests.toy_platform")
    with pytest.raises(StartupError, match="lacks"):
        load_adapter("tests.toy_platform:ToyPlatform")


def test_built_in_adapters_declare_what_inputs_without_traits_meant():
    """Histories recorded before traits travelled replay with LEGACY_TRAITS: the adapters must agree with it."""
    declared = {cls.name: cls.traits for cls in map(load_adapter, BUILTIN_ADAPTERS)}
    assert declared == LEGACY_TRAITS


async def test_a_platform_without_a_stream_gets_the_tool_loops_reply_posted_whole_once(client, tmp_path, toy_env):
    async with fake_openai() as llm, running_stack(client, tmp_path, llm_base_url=llm.base_url) as stack:
        platform = toy(stack)
        assert not isinstance(platform, StreamingPlatform)
        llm.script_tool_calls(("session_status", {}))
        llm.script_text("All quiet here.")
        room = f"quiet-{uuid.uuid4().hex[:6]}"  # a session of its own (other tests' sessions use the lobby)
        await say(stack, "how are we doing?", room=room)
        await eventually(lambda: _texts(platform, room), lambda t: len(t) >= 1, what="the reply")
        # The model was asked streamed, with tools; the session posted its text answer whole, once.
        assert [r["stream"] for r in llm.tool_requests] == [True, True]
        state = await eventually(
            lambda: stack.state(f"toy:{room}:main"),
            lambda s: s["history"][-1]["role"] == "assistant",
            what="the answer in the session's history",
        )
        assert state["history"][-1]["text"] == "All quiet here."
        assert platform.texts(room) == ["All quiet here."]
