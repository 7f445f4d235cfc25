"""Platform-neutral Reply blocks -> Adaptive Card 1.5 (with a text fallback).

Buttons become Action.Execute (an ``adaptiveCard/action`` invoke naming the target
workflow and action) with an Action.Submit fallback for clients without Universal
Actions; both carry the same data, so either path reaches the workflow.
"""

from __future__ import annotations

from typing import Any

from botbuilder.core import CardFactory, MessageFactory
from botbuilder.schema import Activity, ChannelAccount, Mention

from adapters.teams.links import markdown, mention_entities, plain
from workflows.contracts import Button, ButtonsBlock, DividerBlock, FieldsBlock, Reply, TextBlock

CARD_VERSION = "1.5"
CARD_SCHEMA = "http://adaptivecards.io/schemas/adaptive-card.json"
#: Marks card data as ours, so an Action.Submit message is told apart from chat text.
DATA_MARKER = "threadwork"
STYLES = {"primary": "positive", "danger": "destructive", "default": "default"}


def button_data(button: Button) -> dict[str, Any]:
    return {DATA_MARKER: 1, "workflow_id": button.workflow_id, "action_id": button.action_id, "value": button.value}


def _action(button: Button) -> dict[str, Any]:
    data = button_data(button)
    return {
        "type": "Action.Execute",
        "title": plain(button.label),
        "verb": button.action_id,
        "data": data,
        "style": STYLES[button.style],
        "fallback": {"type": "Action.Submit", "title": plain(button.label), "data": data},
    }


def _text(block: TextBlock) -> dict[str, Any]:
    element: dict[str, Any] = {"type": "TextBlock", "text": markdown(block.text), "wrap": True}
    if block.style == "heading":
        element.update(weight="Bolder", size="Medium")
    elif block.style == "context":
        element.update(isSubtle=True, size="Small")
    return element


def render_card(reply: Reply) -> dict[str, Any]:
    """The Adaptive Card for ``reply``; a reply without blocks becomes one TextBlock."""
    body: list[dict[str, Any]] = []
    separate = False
    for block in reply.blocks or [TextBlock(text=reply.text)]:
        if isinstance(block, DividerBlock):
            separate = True
            continue
        if isinstance(block, TextBlock):
            element = _text(block)
        elif isinstance(block, FieldsBlock):
            element = {"type": "FactSet", "facts": [{"title": plain(k), "value": markdown(v)} for k, v in block.fields]}
        elif isinstance(block, ButtonsBlock):
            element = {"type": "ActionSet", "actions": [_action(b) for b in block.buttons]}
        else:  # a block type added to the contracts later: the card's fallbackText carries it
            continue
        if separate and body:
            element["separator"] = True
        separate = False
        body.append(element)
    card: dict[str, Any] = {
        "type": "AdaptiveCard",
        "$schema": CARD_SCHEMA,
        "version": CARD_VERSION,
        "fallbackText": plain(reply.text),
        "body": body,
    }
    mentions = mention_entities(*_block_texts(reply))
    if mentions:
        card["msteams"] = {"entities": mentions}
    return card


def _block_texts(reply: Reply) -> list[str]:
    texts: list[str] = []
    for block in reply.blocks or [TextBlock(text=reply.text)]:
        if isinstance(block, TextBlock):
            texts.append(block.text)
        elif isinstance(block, FieldsBlock):
            texts.extend(v for _, v in block.fields)
    return texts


def error_card(text: str) -> dict[str, Any]:
    """What only the clicker sees when a click is refused."""
    return {
        "type": "AdaptiveCard",
        "$schema": CARD_SCHEMA,
        "version": CARD_VERSION,
        "fallbackText": text,
        "body": [{"type": "TextBlock", "text": text, "wrap": True, "color": "Attention"}],
    }


def render_activity(reply: Reply) -> Activity:
    """Plain text for text-only replies; a card (plus summary text) when there are blocks."""
    if not reply.blocks:
        activity = MessageFactory.text(markdown(reply.text))
        mentions = mention_entities(reply.text)
        if mentions:
            activity.entities = [
                Mention(type="mention", text=e["text"], mentioned=ChannelAccount(**e["mentioned"])) for e in mentions
            ]
        return activity
    activity = MessageFactory.attachment(CardFactory.adaptive_card(render_card(reply)))
    activity.summary = plain(reply.text)
    return activity
