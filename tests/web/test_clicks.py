"""Tracked story links (``[track] clicks``): a signed redirect per story and edition, counted, never open."""

from __future__ import annotations

import json
from urllib.parse import urlsplit

import lxml.html
import pytest
from starlette.testclient import TestClient

from digest import tokens
from digest.config import load
from digest.render import render_edition
from digest.web import create_app
from tests.support.archive import send_to_a_reader
from tests.support.render import Edition, edition_fixture  # noqa: F401


def _headline_links(edition: Edition) -> list[str]:
    html, _ = render_edition(edition.store, load(edition.config.home), edition.edition_id).fill({})
    return [str(h) for h in lxml.html.fromstring(html).xpath("//h2/a/@href | //h3/a/@href")]


def test_links_are_the_stories_own_unless_tracking_is_on(edition: Edition, monkeypatch: pytest.MonkeyPatch) -> None:
    urls = [s.url for s in edition.store.edition_stories(edition.edition_id)]
    assert _headline_links(edition) == urls  # off by default: nothing goes through digest serve
    monkeypatch.setenv("DIGEST_TRACK_CLICKS", "true")
    tracked = _headline_links(edition)
    assert len(tracked) == len(urls) and all(link.startswith("https://news.example/c/") for link in tracked)
    _, text = render_edition(edition.store, load(edition.config.home), edition.edition_id).fill({})
    assert all(link in text for link in tracked) and not any(u and u in text for u in urls)


def test_a_click_is_counted_and_redirected_to_the_story(
    edition: Edition,
    monkeypatch: pytest.MonkeyPatch,
    cli,  # type: ignore[no-untyped-def]
) -> None:
    monkeypatch.setenv("DIGEST_TRACK_CLICKS", "true")
    config = load(edition.config.home)
    send_to_a_reader(edition.store, config, edition.edition_id)
    first, second = edition.store.edition_stories(edition.edition_id)[:2]
    links = _headline_links(edition)
    with TestClient(create_app(config)) as c:
        for _ in range(2):
            hop = c.get(urlsplit(links[0]).path, follow_redirects=False)
            assert hop.status_code == 302 and hop.headers["location"] == first.url
            assert hop.headers["cache-control"] == "no-store"
        assert c.head(urlsplit(links[1]).path, follow_redirects=False).headers["location"] == second.url
    report = json.loads(cli("stats", "--edition", str(edition.edition_id), "--json").stdout)[0]
    clicks = {s["story_id"]: s for s in report["stories"]}
    assert clicks[first.story_id]["clicks"] == 2 and clicks[first.story_id]["rate"] == 2.0  # 2 clicks, 1 sent
    assert clicks[second.story_id]["clicks"] == 0  # a HEAD (a link checker) is not a click
    assert report["link_clicks"] == 2
    shown = cli("stats", "--edition", str(edition.edition_id)).stdout
    assert first.title[:20] in shown and "rate" in shown


def test_an_altered_or_foreign_link_is_refused_never_followed(
    edition: Edition, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DIGEST_TRACK_CLICKS", "true")
    config = load(edition.config.home)
    story = edition.store.edition_stories(edition.edition_id)[0]
    key = tokens.signing_key(edition.store)
    good = tokens.sign_click(key, edition.edition_id, story.story_id)
    payload, mac = good.split(".")
    refused = [
        f"{payload}.{mac[:-2]}AA",  # altered signature
        tokens.sign_click(b"another key", edition.edition_id, story.story_id),  # signed elsewhere
        tokens.sign_click(key, edition.edition_id, 999999),  # a story not in that edition
        tokens.sign_click(key, 999999, story.story_id),  # an edition that does not exist
        "aHR0cHM6Ly9ldmlsLmV4YW1wbGU",  # a destination instead of a token
    ]
    with TestClient(create_app(config)) as c:
        for token in refused:
            page = c.get(f"/c/{token}", follow_redirects=False)
            assert page.status_code == 404 and "location" not in page.headers, token
            assert "not valid" in page.text, token
        assert "location" not in c.get("/c/https%3A%2F%2Fevil.example", follow_redirects=False).headers
    assert edition.store.story_clicks(edition.edition_id)[0].clicks == 0
