"""Server-issued web chat identity in a real browser (chromium): names are labels, membership is the server's."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest_asyncio
from playwright.async_api import Browser, BrowserContext, Page, expect

from adapters.webchat.invites import Invites
from tests.support.browser import chromium
from tests.support.stack import Stack, running_stack
from workflows.incident import IncidentWorkflow

WAIT_MS = 20_000
LIMIT_TEXT = "You've reached the guest limit of 3 messages"


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def browser() -> AsyncIterator[Browser]:
    async with chromium() as browser:
        yield browser


async def open_browser(browser: Browser, stack: Stack, crashes: list[str]) -> tuple[BrowserContext, Page]:
    """A separate browser profile (own cookies) on the web chat; uncaught page errors go to ``crashes``."""
    context = await browser.new_context(base_url=stack.base_url, viewport={"width": 1280, "height": 800})
    context.set_default_timeout(WAIT_MS)
    page = await context.new_page()
    page.on("pageerror", lambda err: crashes.append(str(err)))
    return context, page


async def ready(page: Page, path: str = "/") -> None:
    await page.goto(path)
    await expect(page.get_by_test_id("channel-general")).to_be_visible()
    await expect(page.get_by_test_id("live-status")).to_have_attribute("data-state", "live")


def bot_messages(page: Page):
    return page.locator('#messages [data-testid="message"][data-is-bot="true"]')


async def say(page: Page, text: str) -> None:
    await page.get_by_test_id("composer-input").fill(text)
    await page.get_by_test_id("composer-input").press("Enter")
    await expect(page.get_by_test_id("composer-input")).to_have_value("")


def field_value(message, label: str):
    return message.locator(f'[data-testid="field"][data-label="{label}"] [data-testid="field-value"]')


async def test_second_browser_with_the_commanders_name_cannot_resolve_and_is_told_why(
    browser: Browser, client, tmp_path
):
    async with running_stack(client, tmp_path, webchat_auth="open") as stack:
        crashes: list[str] = []
        real, dana = await open_browser(browser, stack, crashes)
        other, impostor = await open_browser(browser, stack, crashes)
        try:
            await ready(dana)
            await expect(dana.get_by_test_id("identity-note")).to_contain_text("Your name is only a label")
            await dana.get_by_test_id("user-name").fill("Dana")
            await say(dana, "we have a critical incident: checkout is down")
            await expect(bot_messages(dana).filter(has_text="is being handled in #inc-")).to_have_count(1)
            thread = await dana.locator('#messages [data-testid="message"][data-is-bot="false"]').first.get_attribute(
                "data-message-id"
            )
            incident = stack.client.get_workflow_handle_for(
                IncidentWorkflow.run, f"webchat:general:{thread}/incident/1"
            )
            state = await incident.query(IncidentWorkflow.get_incident_state)
            assert state.commander.name == "Dana" and state.commander.id.startswith("webchat-")
            channel = state.conversation.channel

            # Another browser picks the same name and opens the incident card.
            await ready(impostor, f"/#/{channel}")
            await impostor.get_by_test_id("user-name").fill("Dana")
            await impostor.get_by_test_id("thread-item").filter(has_text="Incident SEV1").first.click()
            card = bot_messages(impostor).filter(
                has=impostor.get_by_test_id("block-heading").filter(has_text="Incident SEV1")
            )
            await card.get_by_role("button", name="Resolve").click()
            refusal = card.get_by_test_id("ephemeral")
            await expect(refusal).to_contain_text("not authorized")
            await expect(refusal).to_contain_text("another user is also named Dana, and a name is only a label")
            await expect(field_value(card, "Status")).to_have_text("investigating")
            state = await incident.query(IncidentWorkflow.get_incident_state)
            assert state.status == "investigating"
            [decision] = state.decisions
            assert (decision.actor_name, decision.action, decision.allowed) == ("Dana", "incident.resolve", False)
            assert decision.actor_id != state.commander.id

            # The commander's own browser can.
            await ready(dana, f"/#/{channel}")
            await dana.get_by_test_id("thread-item").filter(has_text="Incident SEV1").first.click()
            own_card = bot_messages(dana).filter(
                has=dana.get_by_test_id("block-heading").filter(has_text="Incident SEV1")
            )
            await own_card.get_by_role("button", name="Resolve").click()
            await expect(field_value(own_card, "Status")).to_have_text("resolved")
            assert (await incident.result()).status == "resolved"
        finally:
            await real.close()
            await other.close()
        assert crashes == [], f"uncaught errors in the page: {crashes}"


async def test_invite_mode_holds_visitors_to_the_guest_limit_and_not_signed_in_members(
    browser: Browser, client, tmp_path
):
    async with running_stack(client, tmp_path, webchat_auth="invite", guest_message_limit=3) as stack:
        crashes: list[str] = []
        visitor_ctx, visitor = await open_browser(browser, stack, crashes)
        member_ctx, member = await open_browser(browser, stack, crashes)
        late_ctx, late = await open_browser(browser, stack, crashes)
        try:
            # A visitor without a link is a guest, whatever the page's checkbox would say.
            await ready(visitor)
            await expect(visitor.get_by_test_id("identity-note")).to_contain_text(
                "You are a guest (3 messages per conversation)"
            )
            await expect(visitor.get_by_test_id("guest")).to_be_checked()
            await expect(visitor.get_by_test_id("guest")).to_be_disabled()
            await visitor.get_by_test_id("user-name").fill("Vic")
            for n in range(1, 5):
                await say(visitor, f"hello {n}")
            await expect(bot_messages(visitor).filter(has_text=LIMIT_TEXT)).to_have_count(1)
            await expect(bot_messages(visitor)).to_have_count(4)

            # A member signs in through the one-time link and is not limited.
            invite = await Invites(stack.store).create("Erin")
            await member.goto(invite.link(stack.base_url))
            await member.get_by_test_id("signin-button").click()
            await expect(member.get_by_test_id("identity-note")).to_have_text("Signed in as Erin.")
            await expect(member.get_by_test_id("user-name")).to_have_value("Erin")
            await expect(member.get_by_test_id("user-name")).to_be_disabled()
            await expect(member.get_by_test_id("guest")).not_to_be_checked()
            for n in range(1, 5):
                await say(member, f"hello {n}")
            await expect(bot_messages(member)).to_have_count(4)
            await expect(bot_messages(member).filter(has_text="message 4 in this conversation")).to_have_count(1)
            await expect(bot_messages(member).filter(has_text=LIMIT_TEXT)).to_have_count(0)
            thread = await member.locator('#messages [data-testid="message"][data-is-bot="false"]').first.get_attribute(
                "data-message-id"
            )
            participants = (await stack.state(f"webchat:general:{thread}"))["participants"]
            assert participants["Erin"] == {"id": "Erin", "name": "Erin", "is_guest": False, "message_count": 4}

            # The link worked once: another browser that opens it is told so and stays a guest.
            await late.goto(invite.link(stack.base_url))
            await late.get_by_test_id("signin-button").click()
            await expect(late.get_by_test_id("signin-status")).to_contain_text("already used")
            await ready(late)
            await expect(late.get_by_test_id("identity-note")).to_contain_text("You are a guest")
        finally:
            for ctx in (visitor_ctx, member_ctx, late_ctx):
                await ctx.close()
        assert crashes == [], f"uncaught errors in the page: {crashes}"
