"""The web chat page in a real browser (Debian's chromium via playwright) against a real stack."""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest_asyncio
from playwright.async_api import Browser, Page, expect

from tests.support.browser import chromium
from tests.support.stack import Stack, running_stack
from workflows.contracts import Button, ButtonsBlock, ConversationKey, Reply, TextBlock
from workflows.incident import IncidentWorkflow

WAIT_MS = 20_000
DOCS = Path(__file__).resolve().parents[1] / "docs"
POLL_MS, RECONNECT_MS = 4000, 3000  # adapters/webchat/static/live.js


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def browser() -> AsyncIterator[Browser]:
    async with chromium() as browser:
        yield browser


@pytest_asyncio.fixture
async def stack(client, tmp_path: Path) -> AsyncIterator[Stack]:
    """The page as `threadwork dev` serves it: open mode, everyone a member with a self-chosen name."""
    async with running_stack(client, tmp_path, webchat_auth="open") as s:
        yield s


@contextlib.asynccontextmanager
async def open_page(browser: Browser, stack, width: int = 1280, height: int = 800) -> AsyncIterator[Page]:
    """A fresh browser profile on the stack's web chat (not loaded yet); uncaught page errors fail the test."""
    context = await browser.new_context(base_url=stack.base_url, viewport={"width": width, "height": height})
    context.set_default_timeout(WAIT_MS)
    page = await context.new_page()
    crashes: list[str] = []
    page.on("pageerror", lambda err: crashes.append(str(err)))
    try:
        yield page
    finally:
        await context.close()
    assert crashes == [], f"uncaught errors in the page: {crashes}"


async def load(page: Page) -> None:
    await page.goto("/")
    await expect(page.get_by_test_id("channel-general")).to_be_visible()
    await expect(page.get_by_test_id("identity-note")).to_contain_text("Open web chat: everyone here is a member")
    await expect(page.get_by_test_id("live-status")).to_have_attribute("data-state", "live")


@pytest_asyncio.fixture
async def page(browser: Browser, stack) -> AsyncIterator[Page]:
    async with open_page(browser, stack) as page:
        await load(page)
        yield page


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
    shown = await page.locator('#messages [data-testid="message"]').evaluate_all(
        "ns => ns.map(n => n.dataset.messageId)"
    )
    assert shown == [m["id"] for m in stored]
    [ada] = (await stack.state(f"webchat:general:{thread}"))["participants"].values()
    assert ada["name"] == "Ada" and ada["is_guest"] is False and ada["id"].startswith("webchat-")

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
    await expect(threads.filter(has_text=f"SEV1 incident opened: Checkout is down \u2014 in #{channel}")).to_have_count(
        1
    )
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

    # The postmortem draft (Markdown) reads as a formatted document, and its thread as its title.
    drafts = [m for m in await stack.store.messages(channel) if m["text"].startswith("Postmortem (draft)")]
    assert len(drafts) == 1 and drafts[0]["thread"] == drafts[0]["id"]
    item = page.get_by_test_id("thread-item").filter(has_text="Postmortem (draft)")
    await expect(item.get_by_test_id("thread-summary")).to_have_text(f"Postmortem (draft): {state.title}")
    await item.click()
    postmortem = page.locator(f'#messages [data-message-id="{drafts[0]["id"]}"] [data-testid="message-body"]')
    await expect(postmortem.get_by_test_id("block-heading")).to_have_text(f"Postmortem (draft): {state.title}")
    await expect(postmortem.locator("h2")).to_have_text(
        [
            "Summary",
            "Timeline (UTC)",
            "Approvals",
            "Decisions and changes",
            "Impact",
            "Root cause",
            "Action items",
            "Narrative",
        ]
    )
    facts = postmortem.locator("table").first
    await expect(facts.locator("tr").filter(has_text="Severity").locator("td")).to_have_text(["Severity", "SEV1"])
    await expect(facts.locator("tr").filter(has_text="Status").locator("td")).to_have_text(["Status", "resolved"])
    await expect(postmortem.locator("li strong").first).to_have_text("Ben")
    await expect(postmortem.locator('input[type="checkbox"]')).to_be_disabled()
    shown = await postmortem.inner_text()
    for raw in ("|---|", "**", "# ", "| |"):
        assert raw not in shown, raw
    await page.screenshot(path=str(tmp_path / "webchat-postmortem.png"), full_page=True)


async def test_channel_opened_by_a_workflow_appears_with_unread_posts(page: Page, stack):
    await page.get_by_test_id("user-name").fill("Cy")
    await page.get_by_test_id("guest").check()
    webchat = stack.platforms.registry.get("webchat")
    key = await webchat.create_channel(
        "inc-checkout-down",
        topic="Incident: checkout is down",
        like=ConversationKey(platform="webchat", channel="general"),
    )
    # The page does not poll while its stream is live: the channel shows up with its first post.
    gone = Button(label="Acknowledge", action_id="incident.ack", workflow_id="no-such-workflow")
    await webchat.post(
        key,
        Reply(
            text="Incident channel opened",
            blocks=[TextBlock(text="Incident channel opened"), ButtonsBlock(buttons=[gone])],
        ),
    )
    channel = page.get_by_test_id("channel-inc-checkout-down")
    await expect(channel).to_be_visible()
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
    [cy] = state["participants"].values()
    assert cy["name"] == "Cy" and cy["is_guest"] is True and cy["id"].startswith("webchat-")


async def test_attach_stages_the_file_and_send_uploads_it_with_the_caption(page: Page, stack):
    from tests.support.documents import REPORT_TEXT

    await page.get_by_test_id("user-name").fill("Ada")
    report = {"name": "report.md", "mimeType": "text/markdown", "buffer": REPORT_TEXT.encode()}

    # Attach only stages the file beside the composer; Remove unstages it.
    await page.get_by_test_id("composer-file").set_input_files(files=[{**report, "name": "wrong.md"}])
    await expect(page.get_by_test_id("attachment-name")).to_have_text("wrong.md")
    await page.get_by_test_id("attachment-remove").click()
    await expect(page.get_by_test_id("attachment-chip")).to_have_count(0)
    await page.get_by_test_id("composer-file").set_input_files(files=[report])
    await expect(page.get_by_test_id("attachment-name")).to_have_text("report.md")
    assert await stack.store.messages("general") == []

    # Typing after attaching, then Send (as everyone does): text and file go together.
    await page.get_by_test_id("composer-input").fill("the <b>storage</b> report")
    await page.get_by_test_id("composer-send").click()
    mine = user_messages(page)
    await expect(mine).to_have_count(1)
    await expect(mine.get_by_test_id("block-text")).to_have_text("the <b>storage</b> report")
    link = mine.get_by_test_id("file-link")
    await expect(link).to_have_text(f"report.md ({len(REPORT_TEXT.encode())} bytes)")
    served = await page.request.get(await link.get_attribute("href"))
    assert await served.body() == REPORT_TEXT.encode()
    summary = bot_messages(page).filter(
        has=page.get_by_test_id("block-heading").filter(has_text="report.md: Quarterly storage report")
    )
    await expect(summary).to_have_count(1, timeout=WAIT_MS)
    await expect(summary.get_by_test_id("block-text")).to_contain_text("twelve percent")
    await expect(page.get_by_test_id("composer-input")).to_have_value("")
    await expect(page.get_by_test_id("attachment-chip")).to_have_count(0)
    await expect(page.get_by_test_id("error-banner")).to_be_hidden()
    stored = await stack.store.messages("general")
    assert [(m["text"], [f["name"] for f in m["files"]]) for m in stored if not m["is_bot"]] == [
        ("the <b>storage</b> report", ["report.md"])
    ]

    # Send with neither text nor file explains itself and sends nothing.
    await page.get_by_test_id("composer-send").click()
    await expect(page.get_by_test_id("error-text")).to_have_text("Type a message or attach a file first.")
    assert len(await stack.store.messages("general")) == len(stored)


MARKDOWN = """## Deploy report

**bold** and _italic_ and `inline <code>` and ~~gone~~
second line

| Step | Result |
|---|---|
| build | ok |
| deploy | <b>failed</b> |

```
print("<hi>")
```

- [x] rolled back
- [ ] postmortem

<script>window.__pwned = 1</script>
<img src=x onerror="window.__pwned = 2">

[click](javascript:window.__pwned=3) ![tracker](http://127.0.0.1:9/t.png) https://example.com/x
"""


async def test_bot_markdown_renders_formatted_and_no_raw_html_reaches_the_dom(page: Page, stack):
    webchat = stack.platforms.registry.get("webchat")
    await webchat.post(ConversationKey(platform="webchat", channel="general"), Reply(text=MARKDOWN))
    item = page.get_by_test_id("thread-item").filter(has_text="Deploy report")
    await expect(item.get_by_test_id("thread-summary")).to_have_text("Deploy report")
    await item.click()

    body = bot_messages(page).get_by_test_id("message-body")
    await expect(body.locator("h2")).to_have_text("Deploy report")
    await expect(body.locator("strong")).to_have_text("bold")
    await expect(body.locator("em")).to_have_text("italic")
    await expect(body.locator("p code")).to_have_text("inline <code>")
    await expect(body.locator("del")).to_have_text("gone")
    await expect(body.locator("p").first.locator("br")).to_have_count(1)  # a newline stays a line break
    await expect(body.locator("th")).to_have_text(["Step", "Result"])
    await expect(body.locator("tbody tr")).to_have_count(2)
    await expect(body.locator("tbody tr").nth(1).locator("td")).to_have_text(["deploy", "<b>failed</b>"])
    await expect(body.locator("pre code")).to_have_text('print("<hi>")')
    boxes = body.locator('input[type="checkbox"]')
    await expect(boxes).to_have_count(2)
    assert [await b.is_checked() for b in await boxes.all()] == [True, False]
    await expect(body).to_contain_text("<script>window.__pwned = 1</script>")
    await expect(body).to_contain_text('<img src=x onerror="window.__pwned = 2">')

    # Only the allowed tags exist; links are safe and open elsewhere; nothing ran.
    assert await body.locator("script, img, b, iframe, style, [onerror]").count() == 0
    assert await body.locator('a[href^="javascript"]').count() == 0
    tracker = body.get_by_role("link", name="tracker")
    await expect(tracker).to_have_attribute("href", "http://127.0.0.1:9/t.png")
    url = body.get_by_role("link", name="https://example.com/x")
    await expect(url).to_have_attribute("target", "_blank")
    await expect(url).to_have_attribute("rel", "noopener noreferrer")
    assert await page.evaluate("window.__pwned") is None
    shown = await body.inner_text()
    for raw in ("|---|", "**", "##", "```", "~~"):
        assert raw not in shown, raw

    # Text-level additions (conversation links) go into plain text only, never into code or links.
    decorated = await page.evaluate("""async () => {
        const { markdown } = await import('/webchat/static/markdown.js');
        const mark = (t) => t.split('ROOM').flatMap((part, i) => i ? [Object.assign(document.createElement('mark'), { textContent: 'room' }), part] : [part]);
        const div = document.createElement('div');
        div.append(markdown('see **ROOM** and `ROOM` and [ROOM](https://x.example/)', { decorate: mark }));
        return div.innerHTML.trim();
    }""")
    assert decorated == (
        "<p>see <strong><mark>room</mark></strong> and <code>ROOM</code> and "
        '<a href="https://x.example/" target="_blank" rel="noopener noreferrer">ROOM</a></p>'
    ), decorated


async def test_phone_width_keeps_the_composer_usable(browser: Browser, stack, tmp_path: Path):
    width = 360
    async with open_page(browser, stack, width=width, height=740) as page:
        await load(page)
        await page.get_by_test_id("user-name").fill("Ada")
        await say(page, "status")
        status = bot_messages(page).filter(has=page.get_by_test_id("block-heading").filter(has_text="Session status"))
        await expect(status).to_have_count(1)
        await expect(status.get_by_test_id("block-context")).to_have_text("Workflows started here")
        await page.get_by_test_id("composer-file").set_input_files(
            files=[
                {"name": "a-rather-long-file-name-for-a-small-screen.txt", "mimeType": "text/plain", "buffer": b"hello"}
            ]
        )
        await page.get_by_test_id("composer-input").fill("here is the log")
        await expect(page.get_by_test_id("attachment-chip")).to_be_visible()
        # The picture in docs/webchat.md; rewritten only when asked, so a test run leaves the tree clean.
        shot = (DOCS if os.environ.get("THREADWORK_DOCS_SCREENSHOTS") == "1" else tmp_path) / "webchat-360.png"
        await page.screenshot(path=str(shot))
        assert shot.stat().st_size > 0

        assert await page.evaluate("document.documentElement.scrollWidth") <= width
        boxes = {}
        for part in ("composer-input", "composer-attach", "composer-send", "attachment-chip"):
            await expect(page.get_by_test_id(part)).to_be_in_viewport()
            boxes[part] = await page.get_by_test_id(part).bounding_box()
            assert boxes[part]["x"] >= 0 and boxes[part]["x"] + boxes[part]["width"] <= width, (part, boxes[part])
        assert boxes["composer-input"]["width"] >= 180, boxes["composer-input"]
        assert boxes["composer-input"]["height"] >= 40, boxes["composer-input"]
        assert boxes["composer-send"]["height"] >= 32, boxes["composer-send"]

        # And it works: the staged file goes out with its caption, in this thread.
        await page.get_by_test_id("composer-send").click()
        await expect(user_messages(page).filter(has_text="here is the log").get_by_test_id("file-link")).to_have_count(
            1
        )
        await expect(status).to_be_visible()


async def test_channels_are_polled_only_while_the_stream_is_down(browser: Browser, stack):
    async with open_page(browser, stack) as page:
        channel_polls: list[str] = []
        page.on("request", lambda r: channel_polls.append(r.url) if r.url.endswith("/webchat/api/channels") else None)
        await page.clock.install()
        await page.route("**/webchat/api/stream*", lambda route: route.fulfill(status=503, body="down"))
        await page.goto("/")
        await expect(page.get_by_test_id("live-status")).to_have_attribute("data-state", "offline")

        # Down: the channel list is polled as a fallback, again and again.
        for _ in range(2):
            async with page.expect_request("**/webchat/api/channels"):
                await page.clock.run_for(POLL_MS)

        # Back: the page catches up once, then only the stream talks.
        await page.unroute("**/webchat/api/stream*")
        async with page.expect_request("**/webchat/api/channels"):
            await page.clock.run_for(RECONNECT_MS)
        await expect(page.get_by_test_id("live-status")).to_have_attribute("data-state", "live")
        await expect(page.get_by_test_id("channel-general")).to_be_visible()
        settled = len(channel_polls)
        await page.clock.run_for(15 * POLL_MS)
        # A later request's answer arrives after any request the timers made before it.
        await page.evaluate("fetch('/webchat/api/channels/general/messages').then(r => r.json())")
        assert len(channel_polls) == settled

        # Bookkeeping per thread stays bounded however long the page is open.
        kept = await page.evaluate("""async () => {
            const { BoundedMap } = await import('/webchat/static/bounded.js');
            const seen = new BoundedMap(3);
            for (const id of ['a', 'b', 'c', 'd', 'b', 'e']) seen.set(id, 1);
            return [...seen.keys()].join();
        }""")
        assert kept == "d,b,e"
