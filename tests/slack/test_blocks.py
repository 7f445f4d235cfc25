"""Neutral reply blocks -> Block Kit (pure rendering rules)."""

from __future__ import annotations

import pytest

from adapters.slack.blocks import RenderError, decode_button_value, render, split_text
from workflows.contracts import Button, ButtonsBlock, DividerBlock, FieldsBlock, Reply, TextBlock


def test_each_neutral_block_has_its_block_kit_form():
    reply = Reply(
        text="fallback <text> & more",
        blocks=[
            TextBlock(text="Incident", style="heading"),
            TextBlock(text="a <b> & c"),
            TextBlock(text="small print", style="context"),
            FieldsBlock(fields=[("Severity", "SEV1"), ("Status", "open")]),
            DividerBlock(),
            ButtonsBlock(
                buttons=[
                    Button(label="Go", action_id="go", workflow_id="wf"),
                    Button(label="Go again", action_id="go", workflow_id="wf", style="danger"),
                ]
            ),
        ],
    )
    [message] = render(reply)
    assert message.text == "fallback &lt;text&gt; &amp; more"
    assert [b["type"] for b in message.blocks] == ["header", "section", "context", "section", "divider", "actions"]
    assert message.blocks[1]["text"] == {"type": "mrkdwn", "text": "a &lt;b&gt; &amp; c"}
    assert message.blocks[3]["fields"][0] == {"type": "mrkdwn", "text": "*Severity*\nSEV1"}
    buttons = message.blocks[5]["elements"]
    assert [b["action_id"] for b in buttons] == ["go", "go#2"]  # unique within the message
    assert "style" not in buttons[0] and buttons[1]["style"] == "danger"
    assert decode_button_value(buttons[1]["value"]) == ("wf", "go", "")


def test_limits_fields_headers_and_buttons():
    many_fields = FieldsBlock(fields=[(f"k{i}", "v") for i in range(23)])
    long_heading = TextBlock(text="H" * 200, style="heading")
    many_buttons = ButtonsBlock(
        buttons=[Button(label="B" * 100, action_id=f"a{i}", workflow_id="wf") for i in range(30)]
    )
    [message] = render(Reply(text="x", blocks=[many_fields, long_heading, many_buttons]))
    sections = [b for b in message.blocks if b["type"] == "section" and "fields" in b]
    assert [len(s["fields"]) for s in sections] == [10, 10, 3]
    heading = next(b for b in message.blocks if b["type"] == "section" and "text" in b)
    assert heading["text"]["text"] == "*" + "H" * 200 + "*"  # too long for a header block
    actions = [b for b in message.blocks if b["type"] == "actions"]
    assert [len(a["elements"]) for a in actions] == [25, 5]
    assert all(len(e["text"]["text"]) <= 75 for a in actions for e in a["elements"])


def test_escaping_never_pushes_a_section_over_the_limit():
    [message] = render(Reply(text="<&>" * 2000))
    assert all(len(b["text"]["text"]) <= 3000 for b in message.blocks)
    assert "".join(b["text"]["text"] for b in message.blocks) == "&lt;&amp;&gt;" * 2000


def test_too_long_button_value_and_foreign_values_are_errors():
    with pytest.raises(RenderError):
        render(
            Reply(
                text="x",
                blocks=[ButtonsBlock(buttons=[Button(label="x", action_id="a", value="v" * 2100, workflow_id="wf")])],
            )
        )
    for bad in ("", "not json", "[1]", '{"w": 1}'):
        with pytest.raises(ValueError, match="the button value"):
            decode_button_value(bad)


def test_split_text_prefers_line_then_word_breaks():
    assert split_text("aaaaaa\nbbbb cccc", 10) == ["aaaaaa", "bbbb cccc"]
    assert split_text("x" * 25, 10) == ["x" * 10, "x" * 10, "x" * 5]
    assert split_text("", 10) == [""]
