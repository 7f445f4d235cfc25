"""Incident AI: catch-up (command and card button), Draft update, postmortem narrative; with a
model (the fake OpenAI server) and without one (deterministic, labelled)."""

from __future__ import annotations

import pytest

from tests.fake_openai import fake_openai
from tests.support.ai_chat import button, wait_message
from tests.support.helpers import eventually
from tests.support.incident_chat import Incident, declare
from tests.support.stack import Stack, running_stack

DECLARATION = "we have a critical incident: payments are down"


async def ten_entries(stack: Stack) -> Incident:
    """An incident whose timeline holds 10 entries (declared, channel, notes from the origin thread)."""
    inc = await declare(stack, DECLARATION)
    state = await inc.wait_state(lambda s: s.card is not None, "the card")
    for n in range(1, 11 - len(state.timeline)):
        await stack.say(f"incident note step {n}: restarted payments-{n}", thread=inc.origin_thread, user="alice")
        state = await inc.wait_state(
            lambda s, n=n: any(e.text.startswith(f"step {n}:") for e in s.timeline), f"note {n}"
        )
    assert len(state.timeline) == 10
    return inc


@pytest.mark.parametrize("with_model", [True, False], ids=["llm", "no-llm"])
async def test_catch_up_draft_update_and_postmortem_narrative(client, tmp_path, with_model):
    async with fake_openai() as llm:
        overrides = {"llm_base_url": llm.base_url} if with_model else {}
        async with running_stack(client, tmp_path, incident_responders="bob", **overrides) as stack:
            inc = await ten_entries(stack)
            entries = [e.text for e in (await inc.state()).timeline]

            # `incident catch up` from the origin thread: no private messages in the web chat, so it is
            # answered in the thread, addressed to the asker.
            await stack.say("incident catch up", thread=inc.origin_thread, user="carol")
            catch_up = await wait_message(stack, inc.origin_thread, "carol: Catch-up")
            if with_model:
                assert "AI draft" in catch_up["text"] and "LLM heard:" in catch_up["text"]
                prompt = llm.requests[-1]["body"]["messages"][-1]["content"]
                assert all(text in prompt for text in entries)  # the model saw the whole timeline
            else:
                assert "no language model" in catch_up["text"] and llm.requests == []
                assert "step 8: restarted payments-8" in catch_up["text"] and "10 timeline entries" in catch_up["text"]

            # The card's Catch up button answers only the clicker (no new message in the channel).
            before = len(await inc.channel_texts())
            clicked = await inc.click("incident.catch_up", "carol")
            assert clicked["ephemeral"].startswith("Catch-up (")
            assert len(await inc.channel_texts()) == before

            # Draft update: only the commander and responders may ask; the draft is posted for review
            # and becomes an update only when someone clicks Post this update.
            assert "not authorized" in (await inc.click("incident.draft_update", "carol"))["ephemeral"]
            await inc.click("incident.draft_update", "alice")
            channel = await inc.channel()
            draft = await wait_message(stack, None, "Draft stakeholder update", channel=channel)
            assert ("AI draft" in draft["text"]) == with_model and ("no language model" in draft["text"]) != with_model
            text = button(draft, "Post this update")["value"]
            assert not any(e.kind == "update" and e.text == text for e in (await inc.state()).timeline)
            await inc.click("incident.update", "alice", value=text, message=draft)
            await inc.wait_state(
                lambda s: any(e.kind == "update" and e.text == text for e in s.timeline), "the posted draft"
            )

            # The postmortem keeps its deterministic sections and gains a narrative marked as a draft.
            await inc.click("incident.resolve", "alice")
            result = await inc.result()
            assert "## Timeline (UTC)" in result.postmortem and "## Action items" in result.postmortem
            if with_model:
                assert "## Narrative (AI draft: review before sharing)" in result.postmortem
                assert "LLM heard:" in result.postmortem.split("## Narrative", 1)[1]
            else:
                assert "## Narrative\n\n_No language model is configured" in result.postmortem
            await eventually(
                inc.channel_texts, lambda t: any(x.startswith("Postmortem (draft)") for x in t), what="postmortem"
            )
