"""The per-conversation reference memo (adapters/teams/reference_memo.py): reused only for the same input."""

from __future__ import annotations

from adapters.teams.reference_memo import ReferenceMemo
from adapters.teams.references import reference_for
from workflows.contracts import ConversationKey

SERVICE = "https://smba.example/teams/"


def _context(conversation: str, service_url: str = SERVICE) -> dict:
    return {
        "channelId": "msteams",
        "serviceUrl": service_url,
        "conversation": {"id": conversation, "conversationType": "groupChat", "tenantId": "t1"},
        "bot": {"id": "28:bot", "name": "threadwork"},
        "user": {"id": "29:alice", "name": "Alice"},
    }


def _key(conversation: str) -> ConversationKey:
    return ConversationKey(platform="teams", workspace="t1", channel=conversation)


def test_the_same_context_is_built_once_and_matches_a_fresh_build():
    memo = ReferenceMemo()
    first, data = memo.get(_key("a:1"), _context("a:1"), SERVICE)
    again, data_again = memo.get(_key("a:1"), _context("a:1"), SERVICE)  # an equal dict, as each turn sends
    assert again is first and data_again is data
    assert data == reference_for(_key("a:1"), _context("a:1"), SERVICE).serialize()


def test_a_changed_context_or_default_service_url_is_built_again():
    memo = ReferenceMemo()
    first, _ = memo.get(_key("a:1"), _context("a:1"), SERVICE)
    moved, data = memo.get(_key("a:1"), _context("a:1", "https://smba.example/emea/"), SERVICE)
    assert moved is not first and data["serviceUrl"] == "https://smba.example/emea/"
    # No stored context: the reference is built from the key and the service URL the worker knows.
    bare, _ = memo.get(_key("a:2"), None, SERVICE)
    other, data = memo.get(_key("a:2"), None, "https://smba.example/apac/")
    assert other is not bare and data["serviceUrl"] == "https://smba.example/apac/"


def test_it_keeps_at_most_its_size():
    memo = ReferenceMemo(size=2)
    first, _ = memo.get(_key("a:1"), _context("a:1"), SERVICE)
    memo.get(_key("a:2"), _context("a:2"), SERVICE)
    memo.get(_key("a:3"), _context("a:3"), SERVICE)
    rebuilt, _ = memo.get(_key("a:1"), _context("a:1"), SERVICE)
    assert rebuilt is not first and len(memo._built) == 2
