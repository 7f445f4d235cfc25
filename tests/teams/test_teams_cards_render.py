"""Neutral Reply blocks -> Adaptive Card 1.5 with text fallback."""

from __future__ import annotations

from adapters.teams.cards import render_activity, render_card
from workflows.contracts import Actor, Button, ButtonsBlock, DividerBlock, FieldsBlock, Reply, TextBlock, user_mention


def test_blocks_become_an_adaptive_card_with_execute_and_submit_fallback():
    reply = Reply(
        text="Incident SEV1: db down",
        blocks=[
            TextBlock(text="Incident: db down", style="heading"),
            FieldsBlock(fields=[("Severity", "SEV1"), ("Status", "investigating")]),
            DividerBlock(),
            TextBlock(text="updated 2 min ago", style="context"),
            ButtonsBlock(
                buttons=[
                    Button(
                        label="Resolve",
                        action_id="incident.resolve",
                        value="v1",
                        workflow_id="teams:t:c/incident/1",
                        style="danger",
                    )
                ]
            ),
        ],
    )
    card = render_card(reply)
    assert card["type"] == "AdaptiveCard" and card["version"] == "1.5"
    assert card["fallbackText"] == "Incident SEV1: db down"
    heading, facts, context, actions = card["body"]
    assert heading == {
        "type": "TextBlock",
        "text": "Incident: db down",
        "wrap": True,
        "weight": "Bolder",
        "size": "Medium",
    }
    assert facts["facts"] == [{"title": "Severity", "value": "SEV1"}, {"title": "Status", "value": "investigating"}]
    assert context["separator"] is True and context["isSubtle"] is True
    [action] = actions["actions"]
    data = {"threadwork": 1, "workflow_id": "teams:t:c/incident/1", "action_id": "incident.resolve", "value": "v1"}
    assert action == {
        "type": "Action.Execute",
        "title": "Resolve",
        "verb": "incident.resolve",
        "data": data,
        "style": "destructive",
        "fallback": {"type": "Action.Submit", "title": "Resolve", "data": data},
    }
    activity = render_activity(reply)
    assert activity.summary == reply.text
    [attachment] = activity.attachments
    assert attachment.content_type == "application/vnd.microsoft.card.adaptive" and attachment.content == card


def test_text_only_reply_is_plain_text():
    activity = render_activity(Reply(text="hello"))
    assert activity.text == "hello" and not activity.attachments


def test_a_teams_user_is_a_real_mention_in_text_and_in_cards():
    ann = user_mention(Actor(id="29:1ann-teams-id", name="Ann Lee"))
    activity = render_activity(Reply(text=f"{ann} took command"))
    assert activity.text == "<at>Ann Lee</at> took command"
    [mention] = activity.entities
    assert mention.serialize() == {
        "type": "mention",
        "text": "<at>Ann Lee</at>",
        "mentioned": {"id": "29:1ann-teams-id", "name": "Ann Lee"},
    }
    card = render_card(
        Reply(text=f"Commander: {ann}", blocks=[FieldsBlock(fields=[("Commander", ann), ("Reporter", ann)])])
    )
    assert card["body"][0]["facts"][0]["value"] == "<at>Ann Lee</at>"
    assert card["msteams"] == {"entities": [mention.serialize()]}  # one entity per user, however often named
    assert card["fallbackText"] == "Commander: @Ann Lee"


def test_a_user_of_another_platform_stays_a_name():
    activity = render_activity(Reply(text=f"{user_mention(Actor(id='UALICE', name='Alice'))} asked"))
    assert activity.text == "**Alice** asked" and not activity.entities
    assert "msteams" not in render_card(
        Reply(text="x", blocks=[TextBlock(text=user_mention(Actor(id="web-1", name="Cy")))])
    )
