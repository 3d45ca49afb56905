"""A reader's whole path in a real headless Chromium: sign up on `/`, confirm from the mail, get an edition with a
preferences link, choose a topic there (the following edition holds only that topic's stories), leave, and sign up
again (which needs a new confirmation). Issue 12's done-when.

Skips only when /usr/bin/chromium is absent and CI is unset.
"""

from __future__ import annotations

import email
import html
import json
import re
from email import policy
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from digest.config import load
from digest.store import Store
from tests.support.render import CHROMIUM, CHROMIUM_ARGS, app_server, need_chromium

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def newest_link(folder: Path, purpose: str) -> str:
    (path,) = folder.glob("*.eml")
    msg = email.message_from_bytes(path.read_bytes(), policy=policy.default)
    text = msg.get_body(("plain",)).get_content()
    (link,) = set(re.findall(rf"https?://\S+/{purpose}/[A-Za-z0-9_.-]+", text))
    path.unlink()  # the next mail of this kind is the only one left
    return urlsplit(link).path


NEXT_DAY = "2026-11-25"  # the day after the pinned now (tests.support.NOW)


def next_copy(home: Path, first_box: Path) -> str:
    """The HTML text of the one copy in the edition folder that is not ``first_box``."""
    (box,) = [p for p in (home / "outbox").glob("edition-*") if p.is_dir() and p != first_box]
    (path,) = box.glob("*.eml")
    msg = email.message_from_bytes(path.read_bytes(), policy=policy.default)
    return html.unescape(str(msg.get_body(("html",)).get_content()))  # the text part wraps long titles


def story_titles(home: Path, text: str) -> dict[str, str]:
    """Titles of stored stories in the mail's text -> "tech" when their source has that tag, else "other"."""
    with Store(load(home).db_path) as store:
        tagged = {s.id: set(s.tags) for s in store.sources()}
        rows = store.rows("SELECT title, source_id FROM stories")
    return {
        r["title"]: "tech" if "tech" in tagged.get(r["source_id"], set()) else "other"
        for r in rows
        if r["title"] in text
    }


def status(home: Path, who: str) -> str | None:
    with Store(load(home).db_path) as store:
        return store.subscription(store.subscriber(who).id, store.list_("daily").id)


def test_sign_up_confirm_choose_a_topic_leave_and_come_back_in_a_browser(cli, initialised: Path) -> None:  # type: ignore[no-untyped-def]
    need_chromium()
    from playwright.sync_api import sync_playwright

    home = initialised
    cli("init", "--example")
    cli("lists", "add", "daily", "--double-opt-in", "--title", "The Daily", "--description", "Every morning.")
    cli("collect")
    confirm_box = home / "outbox" / "confirm"
    with app_server(load(home), preview=False) as base, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, timeout=30_000)
        try:
            page: Any = browser.new_page()

            def sign_up() -> None:
                page.goto(base + "/", wait_until="load", timeout=15_000)
                assert "Every morning." in page.content()
                page.check('input[name="list"][value="daily"]')
                page.uncheck('input[name="list"][value="main"]')
                page.fill('input[name="email"]', "reader@example.org")
                page.fill('input[name="name"]', "Rea Der")
                page.click('button[type="submit"]')
                page.wait_for_selector("text=Check your inbox", timeout=15_000)

            sign_up()
            assert status(home, "reader@example.org") == "unconfirmed"
            page.goto(base + newest_link(confirm_box, "confirm"), wait_until="load")
            assert status(home, "reader@example.org") == "unconfirmed"  # opening the link confirms nobody
            page.click("text=Confirm subscription")
            page.wait_for_selector("text=Subscription confirmed", timeout=15_000)
            assert status(home, "reader@example.org") == "confirmed"

            cli("build", "--list", "daily")
            sent = json.loads(cli("send", "--list", "daily", "--provider", "outbox", "--json").stdout)
            assert sent["sent"] == 1
            (edition_box,) = (home / "outbox").glob("edition-*")
            page.goto(base + newest_link(edition_box, "preferences"), wait_until="load")
            page.check('input[name="topic"][value="tech"]')
            page.click('button[value="save"]')
            page.wait_for_selector("text=Saved: it applies from the next edition.", timeout=15_000)
            with Store(load(home).db_path) as store:
                assert store.subscriber("reader@example.org").attributes["topics"] == ["tech"]

            # the following edition holds only that topic's stories
            cli("build", "--list", "daily", "--date", NEXT_DAY)
            sent = json.loads(
                cli("send", "--list", "daily", "--date", NEXT_DAY, "--provider", "outbox", "--json").stdout
            )
            assert sent["sent"] == 1 and sent["variants"] == 1
            titles = story_titles(home, next_copy(home, edition_box))
            assert titles and set(titles.values()) == {"tech"}, titles
            page.click('button[value="leave"]')
            page.wait_for_selector("text=You are unsubscribed", timeout=15_000)
            assert status(home, "reader@example.org") == "unsubscribed"

            sign_up()  # back again: still out until the new mail's link is used
            assert status(home, "reader@example.org") == "unsubscribed"
            page.goto(base + newest_link(confirm_box, "confirm"), wait_until="load")
            page.click("text=Confirm subscription")
            page.wait_for_selector("text=Subscription confirmed", timeout=15_000)
            assert status(home, "reader@example.org") == "confirmed"
        finally:
            browser.close()
