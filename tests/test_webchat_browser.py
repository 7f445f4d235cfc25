"""The web chat page in a real browser (Debian's chromium via playwright) against a real stack."""

from __future__ import annotations

from pathlib import Path
from typing import AsyncIterator

import pytest_asyncio
from playwright.async_api import Browser, Page, expect

from tests.support.browser import chromium
from workflows.contracts import Button, ButtonsBlock, ConversationKey, Reply, TextBlock
from workflows.incident import IncidentWorkflow

WAIT_MS = 20_000


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def browser() -> AsyncIterator[Browser]:
    async with chromium() as browser:
        yield browser


@pytest_asyncio.fixture
async def page(browser: Browser, stack) -> AsyncIterator[Page]:
    """A fresh browser profile on the stack's web chat; uncaught page errors fail the test."""
    context = await browser.new_context(base_url=stack.base_url, viewport={"width": 1280, "height": 800})
    context.set_default_timeout(WAIT_MS)
    page = await context.new_page()
    crashes: list[str] = []
    page.on("pageerror", lambda err: crashes.append(str(err)))
    await page.goto("/")
    await expect(page.get_by_test_id("channel-general")).to_be_visible()
    await expect(page.get_by_test_id("live-status")).to_have_attribute("data-state", "live")
    try:
        yield page
    finally:
        await context.close()
    assert crashes == [], f"uncaught errors in the page: {crashes}"


def bot_messages(page: Page):
    return page.locator('#messages [data-testid="message"][data-is-bot="true"]')


def user_messages(page: Page):
    return page.locator('#messages [data-testid="message"][data-is-bot="false"]')


def field_value(message, label: str):
    return message.locator(f'[data-testid="field"][data-label="{label}"] [data-testid="field-value"]')


async def say(page: Page, text: str) -> None:
    await page.get_by_test_id("composer-input").fill(text)
    await page.get_by_test_id("composer-input").press("Enter")


async def test_help_reply_renders_and_status_button_answers_live(page: Page, stack, tmp_path: Path):
    await page.get_by_test_id("user-name").fill("Ada")
    await say(page, "help")

    help_msg = bot_messages(page).filter(has=page.get_by_test_id("block-heading").filter(has_text="How I can help"))
    await expect(help_msg).to_have_count(1)
    await expect(help_msg.get_by_test_id("action-button")).to_have_text(["Status", "Help", "End session"])
    await expect(user_messages(page)).to_have_count(1)
    await expect(user_messages(page).get_by_test_id("message-author")).to_have_text("Ada")
    thread = await user_messages(page).get_attribute("data-message-id")
    assert page.url.endswith(f"#/general/{thread}")

    await help_msg.get_by_role("button", name="Status").click()
    status_msg = bot_messages(page).filter(has=page.get_by_test_id("block-heading").filter(has_text="Session status"))
    await expect(status_msg).to_have_count(1)
    await expect(field_value(status_msg, "Messages")).to_have_text("1")
    columns = await status_msg.get_by_test_id("block-fields").evaluate("n => getComputedStyle(n).gridTemplateColumns")
    assert len(columns.split()) == 2, columns
    await expect(status_msg.get_by_test_id("block-divider")).to_have_count(1)
    await expect(page.get_by_test_id("thread-item")).to_have_count(1)
    await expect(page.get_by_test_id("thread-summary")).to_have_text("help")

    # Text is text: markup in a message is shown, never parsed.
    evil = '<img src=x onerror="window.__pwned=1"><b>bold?</b>'
    await say(page, evil)
    await expect(user_messages(page).filter(has_text=evil)).to_have_count(1)
    await expect(bot_messages(page).filter(has_text="message 2 in this conversation")).to_have_count(1)
    assert await page.locator("#messages img, #messages b").count() == 0
    assert await page.evaluate("window.__pwned") is None

    # What the page shows is what the API stores, once each.
    stored = await stack.store.messages("general", thread)
    shown = await page.locator('#messages [data-testid="message"]').evaluate_all("ns => ns.map(n => n.dataset.messageId)")
    assert shown == [m["id"] for m in stored]
    assert (await stack.state(f"webchat:general:{thread}"))["participants"]["Ada"]["is_guest"] is False

    # A reload keeps the name and the open thread with its history.
    await page.reload()
    await expect(page.get_by_test_id("user-name")).to_have_value("Ada")
    await expect(page.locator('#messages [data-testid="message"]')).to_have_count(len(stored))
    await page.screenshot(path=str(tmp_path / "webchat-help.png"), full_page=True)

    # An API refusal is shown to the user, and nothing is started.
    await page.get_by_test_id("new-thread").click()
    await say(page, "x" * 40_001)
    await expect(page.get_by_test_id("error-banner")).to_be_visible()
    await expect(page.get_by_test_id("error-text")).to_contain_text("the limit is 40000")
    await expect(page.get_by_test_id("composer-input")).to_have_value("x" * 40_001)
    assert len({m["thread"] for m in await stack.store.messages("general")}) == 1


async def test_incident_card_renders_and_resolve_updates_it_in_place(page: Page, stack, tmp_path: Path):
    await page.get_by_test_id("user-name").fill("Ben")
    await say(page, "we have a critical incident: checkout is down")

    # The thread gets a link that opens the incident's own channel (short, dated name).
    pointer = bot_messages(page).filter(has_text="is being handled in #inc-")
    await expect(pointer).to_have_count(1)
    thread = await user_messages(page).first.get_attribute("data-message-id")
    incident = stack.client.get_workflow_handle_for(IncidentWorkflow.run, f"webchat:general:{thread}/incident/1")
    state = await incident.query(IncidentWorkflow.get_incident_state)
    channel = state.conversation.channel
    assert channel.startswith("inc-") and channel.endswith("-checkout-is-down") and len(channel) < 40
    link = pointer.get_by_test_id("conversation-link")
    await expect(link).to_have_text(f"#{channel}")
    await expect(bot_messages(page).filter(has_text="I've started incident response")).to_have_count(1)
    await link.click()
    await expect(page.get_by_test_id("channel-title")).to_have_text(f"#{channel}")
    await page.get_by_test_id("thread-item").filter(has_text="Incident SEV1").first.click()

    heading = "Incident SEV1: Checkout is down"
    cards = bot_messages(page).filter(has=page.get_by_test_id("block-heading").filter(has_text=heading))
    await expect(cards).to_have_count(1)
    card = cards.first
    await expect(field_value(card, "Severity")).to_have_text("SEV1")
    await expect(field_value(card, "Status")).to_have_text("investigating")
    await expect(field_value(card, "Commander")).to_contain_text("Ben")
    resolve = card.get_by_role("button", name="Resolve")
    await expect(resolve).to_be_visible()
    await expect(resolve).to_have_class("action-button action-primary")
    await page.screenshot(path=str(tmp_path / "webchat-incident.png"), full_page=True)

    card_id = await card.get_attribute("data-message-id")
    same_card = page.locator(f'#messages [data-message-id="{card_id}"]')
    await same_card.evaluate("node => { node.__probe = 'original node' }")
    await resolve.click()

    await expect(field_value(same_card, "Status")).to_have_text("resolved")
    await expect(same_card.get_by_role("button", name="Resolve")).to_have_count(0)
    assert await same_card.evaluate("node => node.__probe") == "original node"
    await expect(cards).to_have_count(1)
    stored = await stack.store.get_message(card_id)
    assert ["Status", "resolved"] in next(b["fields"] for b in stored["blocks"] if b["type"] == "fields")
    assert (await incident.result()).status == "resolved"
    # The thread that declared it hears about the resolution too.
    origin = [m["text"] for m in await stack.store.messages("general", thread) if m["is_bot"]]
    assert any("resolved" in text.lower() for text in origin)

    # The incidents channel announced it (link and severity) when it opened and when it resolved.
    await page.get_by_test_id("channel-incidents").click()
    await expect(page.get_by_test_id("channel-title")).to_have_text("#incidents")
    threads = page.get_by_test_id("thread-item")
    await expect(threads.filter(has_text=f"SEV1 incident opened: Checkout is down \u2014 in #{channel}")).to_have_count(1)
    await expect(threads.filter(has_text="Resolved: Checkout is down (SEV1, ")).to_have_count(1)
    await threads.filter(has_text="SEV1 incident opened").click()
    announced = bot_messages(page).filter(has_text="SEV1 incident opened")
    await expect(announced).to_have_count(1)
    await page.screenshot(path=str(tmp_path / "webchat-incidents-channel.png"), full_page=True)
    await announced.get_by_test_id("conversation-link").click()
    await expect(page.get_by_test_id("channel-title")).to_have_text(f"#{channel}")

    # No message anywhere shows a workflow id (they belong in `threadwork sessions show`).
    shown: list[str] = []
    for where in ("general", channel, "incidents"):
        shown += [m["text"] for m in await stack.store.messages(where)]
    assert shown and not [t for t in shown if "/incident/" in t or "webchat:general" in t]
    for where, thread_id in (("general", thread), (channel, None)):
        await page.goto(f"/#/{where}" + (f"/{thread_id}" if thread_id else ""))
        await expect(page.get_by_test_id("channel-title")).to_have_text(f"#{where}")
        if thread_id is None:
            await page.get_by_test_id("thread-item").filter(has_text="Incident SEV1").first.click()
        await expect(bot_messages(page).first).to_be_visible()
        body = await page.locator("#messages").inner_text()
        assert "/incident/" not in body and "webchat:" not in body and "\u27e6" not in body
    await page.screenshot(path=str(tmp_path / "webchat-resolved.png"), full_page=True)


async def test_channel_opened_by_a_workflow_appears_with_unread_posts(page: Page, stack):
    await page.get_by_test_id("user-name").fill("Cy")
    await page.get_by_test_id("guest").check()
    webchat = stack.platforms.registry.get("webchat")
    key = await webchat.create_channel(
        "inc-checkout-down", topic="Incident: checkout is down", like=ConversationKey(platform="webchat", channel="general")
    )
    await expect(page.get_by_test_id("channel-inc-checkout-down")).to_be_visible()

    gone = Button(label="Acknowledge", action_id="incident.ack", workflow_id="no-such-workflow")
    await webchat.post(key, Reply(text="Incident channel opened", blocks=[TextBlock(text="Incident channel opened"), ButtonsBlock(buttons=[gone])]))
    channel = page.get_by_test_id("channel-inc-checkout-down")
    await expect(channel.get_by_test_id("unread-badge")).to_have_text("1")

    await channel.click()
    await expect(page.get_by_test_id("channel-title")).to_have_text("#inc-checkout-down")
    await expect(channel.get_by_test_id("unread-badge")).to_have_count(0)
    await page.get_by_test_id("thread-item").filter(has_text="Incident channel opened").click()
    opened = bot_messages(page).filter(has_text="Incident channel opened")
    await opened.get_by_role("button", name="Acknowledge").click()
    await expect(opened.get_by_test_id("ephemeral")).to_contain_text("workflow has finished")

    # A guest can start a thread in the new channel; the session knows they are a guest.
    await page.get_by_test_id("new-thread").click()
    await say(page, "hello from a guest")
    await expect(bot_messages(page).filter(has_text="message 1 in this conversation")).to_have_count(1)
    thread = await user_messages(page).get_attribute("data-message-id")
    state = await stack.state(f"webchat:inc-checkout-down:{thread}")
    assert state["participants"]["Cy"]["is_guest"] is True


async def test_attached_file_is_shown_as_a_link_and_summarized(page: Page, stack):
    from tests.support.documents import REPORT_TEXT

    await page.get_by_test_id("user-name").fill("Ada")
    await page.get_by_test_id("composer-input").fill("the <b>storage</b> report")
    await page.get_by_test_id("composer-file").set_input_files(
        files=[{"name": "report.md", "mimeType": "text/markdown", "buffer": REPORT_TEXT.encode()}]
    )
    mine = user_messages(page)
    await expect(mine).to_have_count(1)
    await expect(mine.get_by_test_id("block-text")).to_have_text("the <b>storage</b> report")
    link = mine.get_by_test_id("file-link")
    await expect(link).to_have_text(f"report.md ({len(REPORT_TEXT.encode())} bytes)")
    served = await page.request.get(await link.get_attribute("href"))
    assert await served.body() == REPORT_TEXT.encode()
    summary = bot_messages(page).filter(has=page.get_by_test_id("block-heading").filter(has_text="report.md: Quarterly storage report"))
    await expect(summary).to_have_count(1, timeout=WAIT_MS)
    await expect(summary.get_by_test_id("block-text")).to_contain_text("twelve percent")
    await expect(page.get_by_test_id("composer-input")).to_have_value("")
