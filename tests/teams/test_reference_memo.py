"""The per-conversation reference memo (adapters/teams/reference_memo.py): reused only for the same input,
and equal to a fresh build for every message of a conversation (each has its own activity id and sender)."""

from __future__ import annotations

from botbuilder.schema import Activity

from adapters.teams.reference_memo import ReferenceMemo
from adapters.teams.references import reference_for, reference_of
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


def _message_context(conversation: str, activity_id: str, sender: str) -> dict:
    """The reference the gateway stores per inbound message (adapters/teams/mapping.py chat_message)."""
    activity = Activity().deserialize(
        {
            "type": "message",
            "id": activity_id,
            "channelId": "msteams",
            "serviceUrl": SERVICE,
            "from": {"id": f"29:{sender}", "name": sender.title(), "aadObjectId": f"aad-{sender}"},
            "recipient": {"id": "28:bot", "name": "threadwork"},
            "conversation": {"id": conversation, "conversationType": "groupChat", "tenantId": "t1"},
            "locale": "en-US",
            "text": "hello",
        }
    )
    return reference_of(activity)


def _key(conversation: str) -> ConversationKey:
    return ConversationKey(platform="teams", workspace="t1", channel=conversation)


def test_the_same_context_is_built_once_and_matches_a_fresh_build():
    memo = ReferenceMemo()
    first, data = memo.get(_key("a:1"), _context("a:1"), SERVICE)
    again, data_again = memo.get(_key("a:1"), _context("a:1"), SERVICE)  # an equal dict, as each turn sends
    assert again.conversation is first.conversation and data_again == data
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


def test_each_message_of_a_conversation_gets_its_own_id_and_sender_on_one_build():
    memo = ReferenceMemo()
    key = _key("19:group")
    shared = None
    for activity_id, sender in [("m1", "alice"), ("m2", "bob"), ("m3", "alice"), ("m4", "carol")]:
        context = _message_context("19:group", activity_id, sender)
        reference, data = memo.get(key, context, SERVICE)
        fresh = reference_for(key, context, SERVICE)
        assert data == fresh.serialize()
        assert reference.serialize() == data
        assert reference.activity_id == activity_id and reference.user.id == f"29:{sender}"
        # The rest (conversation, bot) is the one build, not parsed again per message.
        shared = shared or reference.conversation
        assert reference.conversation is shared
    # What an earlier post was handed stays as it was.
    first, first_data = memo.get(key, _message_context("19:group", "m1", "alice"), SERVICE)
    memo.get(key, _message_context("19:group", "m5", "bob"), SERVICE)
    assert first.activity_id == "m1" and first.user.id == "29:alice" and first_data["activityId"] == "m1"


def test_a_sender_whose_details_changed_is_built_again():
    memo = ReferenceMemo()
    key = _key("19:group")
    context = _message_context("19:group", "m1", "alice")
    memo.get(key, context, SERVICE)
    renamed = dict(context, user=dict(context["user"], name="Alice Liddell"))
    reference, data = memo.get(key, renamed, SERVICE)
    assert reference.user.name == "Alice Liddell" and data == reference_for(key, renamed, SERVICE).serialize()


def test_a_reference_for_another_conversation_takes_nothing_from_the_message():
    """A post into a conversation the stored reference is not for (a new incident thread) is built from the key."""
    memo = ReferenceMemo()
    key = _key("19:incident")
    context = _message_context("19:group", "m1", "alice")
    reference, data = memo.get(key, context, SERVICE)
    assert data == reference_for(key, context, SERVICE).serialize()
    assert reference.activity_id is None and reference.user is None
