"""A reader's preferences page (`/preferences/TOKEN`) on a real port, and what sending makes of a pause."""

from __future__ import annotations

import email
import json
import re
from collections.abc import Iterator
from email import policy
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from digest import tokens, urls
from digest.config import load
from digest.store import Store
from tests.support.render import app_server


@pytest.fixture
def example(cli, initialised: Path) -> Path:  # type: ignore[no-untyped-def]
    cli("init", "--example")
    cli("collect")
    cli("build")
    return initialised


@pytest.fixture
def base(example: Path) -> Iterator[str]:
    with app_server(load(example), preview=False) as url:
        yield url


def link_for(home: Path, who: str, base: str) -> str:
    with Store(load(home).db_path) as store:
        key = tokens.signing_key(store)
        return urlsplit(urls.preferences(base, key, store.subscriber(who).id, store.list_("main").id)).path


def csrf_of(page: httpx.Response) -> str:
    return re.search(r'name="csrf" value="([0-9a-f]+)"', page.text).group(1)


def sent_to(home: Path) -> dict[str, email.message.EmailMessage]:
    found = {}
    for path in sorted((home / "outbox").glob("edition-*/*.eml")):
        msg = email.message_from_bytes(path.read_bytes(), policy=policy.default)
        found[msg["To"].addresses[0].addr_spec] = msg
    return found


def test_the_page_saves_topics_frequency_pause_and_name_and_records_them(example: Path, base: str) -> None:
    path = link_for(example, "ada@example.com", base)
    with httpx.Client() as client:
        page = client.get(base + path)
        assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
        assert 'value="Ada Lovelace"' in page.text
        assert [t for t in ("briefs", "civic", "local", "science", "tech") if f'value="{t}"' in page.text] == [
            "briefs",
            "civic",
            "local",
            "science",
            "tech",
        ]
        form = {
            "csrf": csrf_of(page),
            "name": "Ada L.",
            "topic": ["tech", "not-a-topic"],
            "frequency": "weekly",
            "pause": "2",
            "action": "save",
        }
        assert httpx.post(base + path, data=form).status_code == 403  # no cookie: another site's form
        saved = client.post(base + path, data=form)
        assert saved.status_code == 200 and "Saved: it applies from the next edition." in saved.text
        assert "Paused until 2026-12-08" in saved.text
    with Store(load(example).db_path) as store:
        ada = store.subscriber("ada@example.com")
        assert ada.name == "Ada L."
        assert ada.attributes == {"team": "engines", "topics": ["tech"], "frequency": "weekly"}
        assert store.paused_until(ada.id, store.list_("main").id) == "2026-12-08"
        (event,) = store.rows("SELECT event, occurred_at, data FROM events WHERE subscriber_id = ?", (ada.id,))
    data = json.loads(event["data"])
    assert event["event"] == "preferences" and event["occurred_at"].startswith("2026-11-24T07:00")
    assert data["via"] == "preferences" and sorted(data["changed"]) == ["frequency", "name", "paused_until", "topics"]


def test_a_paused_reader_is_skipped_not_failed_and_gets_it_once_the_pause_ends(example: Path, base: str, cli) -> None:  # type: ignore[no-untyped-def]
    path = link_for(example, "ada@example.com", base)
    with httpx.Client() as client:
        page = client.get(base + path)
        client.post(base + path, data={"csrf": csrf_of(page), "name": "Ada Lovelace", "pause": "1"})
    report = json.loads(cli("send", "--provider", "outbox", "--json").stdout)
    mailed = sent_to(example)
    assert report["paused"] == 1 and report["failed"] == 0 and report["unknown"] == 0
    assert "ada@example.com" not in mailed and report["sent"] == len(mailed) > 0
    with Store(load(example).db_path) as store:
        assert store.scalar("SELECT count(*) FROM sends WHERE email = 'ada@example.com'") == 0
    # every edition's footer carries the reader's own preferences link beside unsubscribe, and it works
    other, msg = next(iter(mailed.items()))
    text, html = msg.get_body(("plain",)).get_content(), msg.get_body(("html",)).get_content()
    own = link_for(example, other, "http://127.0.0.1:8000")
    assert f"http://127.0.0.1:8000{own}" in text and f"http://127.0.0.1:8000{own}" in html
    assert re.search(r"/unsubscribe/[^\"]+\"[^>]*>Unsubscribe</a> · <a href=\"[^\"]+/preferences/", html)
    with httpx.Client() as client:
        assert client.get(base + own).status_code == 200
        page = client.get(base + path)
        assert "Resume now" in page.text
        client.post(base + path, data={"csrf": csrf_of(page), "name": "Ada Lovelace", "pause": "0"})
    again = json.loads(cli("send", "--provider", "outbox", "--json").stdout)
    assert again["sent"] == 1 and again["paused"] == 0 and "ada@example.com" in sent_to(example)


def test_leaving_from_the_page_unsubscribes_and_a_bad_link_changes_nothing(example: Path, base: str) -> None:
    path = link_for(example, "grace@example.com", base)
    with httpx.Client() as client:
        assert client.get(base + path[:-3]).status_code == 400
        assert client.post(base + path[:-3], data={"action": "leave"}).status_code == 400
        page = client.get(base + path)
        gone = client.post(base + path, data={"csrf": csrf_of(page), "action": "leave"})
        assert gone.status_code == 200 and "You are unsubscribed" in gone.text
        assert "You are unsubscribed" in client.get(base + path).text
    with Store(load(example).db_path) as store:
        grace = store.subscriber("grace@example.com")
        assert store.subscription(grace.id, store.list_("main").id) == "unsubscribed"
        (event,) = store.rows("SELECT event, data FROM events WHERE subscriber_id = ?", (grace.id,))
    assert event["event"] == "unsubscribe" and json.loads(event["data"])["via"] == "preferences"


def test_the_page_sets_the_readers_timezone_checked_and_clears_it_back_to_the_lists(example: Path, base: str) -> None:
    path = link_for(example, "ada@example.com", base)
    with httpx.Client() as client:
        page = client.get(base + path)
        assert "The list&#39;s (UTC)" in page.text and '<option value="Pacific/Kiritimati">' in page.text
        form = {"csrf": csrf_of(page), "name": "Ada Lovelace", "timezone": "Pacific/Kiritimati", "action": "save"}
        saved = client.post(base + path, data=form)
        assert saved.status_code == 200 and '<option value="Pacific/Kiritimati" selected>' in saved.text
        bad = client.post(base + path, data=form | {"timezone": "Mars/Olympus"})
        assert "is not a timezone" in bad.text
        with Store(load(example).db_path) as store:
            assert store.subscriber("ada@example.com").attributes["timezone"] == "Pacific/Kiritimati"
        client.post(base + path, data=form | {"timezone": ""})
    with Store(load(example).db_path) as store:
        assert "timezone" not in store.subscriber("ada@example.com").attributes
