"""The desk in a real headless Chromium: drop, swap, edit and approve from the page, then what goes out.

A list that requires approval sends nothing from ``digest run`` until the editor approves on the desk; then the
sent edition (outbox) holds exactly the desk's changes. Skips only when /usr/bin/chromium is absent and CI is
unset; a screenshot goes to tests/artifacts/desk.png.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default
from html import unescape
from pathlib import Path
from typing import Any

import pytest

from digest import Newsletter
from digest.config import load
from tests.conftest import Cli
from tests.support.render import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, app_server, need_chromium

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    need_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, timeout=30_000)
        yield b
        b.close()


def sent(home: Path) -> list[EmailMessage]:
    found = sorted((home / "outbox").rglob("*.eml"))
    return [message_from_bytes(p.read_bytes(), policy=default) for p in found]  # type: ignore[misc]


def bodies(mail: EmailMessage) -> tuple[str, str]:
    html, text = mail.get_body(("html",)), mail.get_body(("plain",))
    assert html is not None and text is not None
    return unescape(html.get_content()), text.get_content()


def test_the_editor_drops_swaps_edits_and_approves_on_the_desk_and_exactly_that_is_sent(
    browser: Any, home: Path, cli: Cli
) -> None:
    cli("init", "--example")
    cli("lists", "edit", "main", "--require-approval")
    held = json.loads(cli("run", "--json").stdout)["lists"][0]
    assert "awaiting_approval" in held and not sent(home)  # nothing goes before approval
    with Newsletter.open(home) as news:
        eid = news.edition()
        start = news.draft(eid)
    dropped, edited, swapped_out = start.stories[1], start.stories[2], start.stories[3]
    runner = start.runners_up[1]

    with app_server(load(home)) as base:
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("console", lambda m: errors.append(m.text) if "Content Security Policy" in m.text else None)
        try:
            page.goto(base + "/", wait_until="load", timeout=15_000)
            page.evaluate("() => { window.sameDocument = true; }")  # gone if an action reloads the page

            page.locator(f"#f-drop-{dropped.story_id} button").click()
            page.wait_for_selector(f"#story-{dropped.story_id}", state="detached", timeout=10_000)
            assert "Dropped the story." in page.locator("#notice").inner_text()
            assert "Dropped the story." in page.locator("#announce").text_content()  # the live region says it

            page.locator(f"#f-swap-{swapped_out.story_id} select").select_option(str(runner.story_id))
            page.locator(f"#f-swap-{swapped_out.story_id} button").click()
            page.wait_for_selector(f"#story-{runner.story_id}", timeout=10_000)
            assert page.locator(f"#story-{swapped_out.story_id}").count() == 0

            page.locator(f"#story-{edited.story_id} details.edit summary").click()
            page.locator(f"#f-edit-{edited.story_id} input[name=title]").fill("The desk's own headline")
            page.locator(f"#f-edit-{edited.story_id} button").click()
            page.wait_for_function(
                f"() => document.querySelector('#story-{edited.story_id} .title').textContent"
                ' === "The desk\'s own headline"',
                timeout=10_000,
            )
            assert f"Original headline: {edited.title}" in page.locator(f"#story-{edited.story_id}").inner_text()
            # the keyboard stays where the editor was: on the edited story (its edit box closed with the save)
            assert page.evaluate("() => document.activeElement.id") == f"story-{edited.story_id}"

            page.locator("#f-approve input[name=by]").fill("Ada")
            page.locator("#f-approve button").click()
            page.wait_for_function(
                "() => document.querySelector('#approval').textContent.includes('Approved by Ada')", timeout=10_000
            )
            assert page.evaluate("() => window.sameDocument") is True, "an action reloaded the whole page"
            frame = page.locator("#desktop").element_handle().content_frame()
            frame.wait_for_function('() => document.body.innerText.includes("The desk\'s own headline")')
            assert not errors, errors
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "desk.png"))
        finally:
            page.close()

    report = json.loads(cli("run", "--json").stdout)["lists"][0]
    assert report["sent"] == 5 and "awaiting_approval" not in report
    mails = sent(home)
    assert len(mails) == 5
    for mail in mails:
        for body in (" ".join(b.split()) for b in bodies(mail)):  # the text part wraps long lines
            assert "The desk's own headline" in body and runner.title in body
            assert dropped.title not in body and swapped_out.title not in body and edited.title not in body
