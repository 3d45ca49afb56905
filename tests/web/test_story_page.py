"""A story with no URL of its own (a text file) gets a page on ``digest serve``, and the email links to it."""

from __future__ import annotations

import lxml.html
from starlette.testclient import TestClient

from digest.render import render_edition
from digest.web import create_app
from tests.support.archive import send_to_a_reader
from tests.support.render import HOSTILE, Edition, edition_fixture, seed  # noqa: F401

BODY = '<p>The ferry ran late.</p><script>alert(1)</script><p onclick="x()">Nobody <b>minded</b>.</p>'


def _text_story(edition: Edition, title: str, date: str = "2026-11-24") -> tuple[int, int]:
    """An edition holding one story without a URL (as a text file gives): (edition id, story id)."""
    edition_id, _ = seed(edition.store, [{"title": title, "url": None, "source": "Files"}], date=date)
    story_id = int(edition.store.scalar("SELECT story_id FROM edition_stories WHERE edition_id = ?", (edition_id,)))
    with edition.store.transaction() as conn:
        conn.execute("UPDATE stories SET body_html = ?, body_text = ? WHERE id = ?", (BODY, "x", story_id))
    return edition_id, story_id


def test_a_story_without_a_url_links_to_its_own_page(edition: Edition) -> None:
    edition_id, story_id = _text_story(edition, f"Harbour news {HOSTILE}")
    html, text = render_edition(edition.store, edition.config, edition_id).fill({})
    page_url = f"https://news.example/stories/{story_id}"
    assert page_url in lxml.html.fromstring(html).xpath("//h2/a/@href")  # the headline, not the archive
    assert page_url in text
    send_to_a_reader(edition.store, edition.config, edition_id)
    with TestClient(create_app(edition.config)) as c:
        page = c.get(f"/stories/{story_id}")
    assert page.status_code == 200
    assert "default-src 'none'" in page.headers["content-security-policy"]
    assert page.headers["referrer-policy"] == "no-referrer" and page.headers["x-content-type-options"] == "nosniff"
    tree = lxml.html.fromstring(page.text)
    assert tree.xpath("//h1")[0].text_content() == f"Harbour news {HOSTILE}"  # shown as text, escaped
    assert tree.xpath("//article//b")[0].text == "minded"
    assert "<script" not in page.text and "onclick" not in page.text


def test_only_stories_of_an_edition_that_went_out_are_shown(edition: Edition) -> None:
    _, draft_story = _text_story(edition, "Only in a draft")
    with TestClient(create_app(edition.config)) as c:
        assert c.get(f"/stories/{draft_story}").status_code == 404
        assert c.get("/stories/999999").status_code == 404
        assert c.get("/stories/abc").status_code == 404
    with TestClient(create_app(edition.config, preview=True)) as c:  # the editor previews the draft
        assert c.get(f"/stories/{draft_story}").status_code == 200


def test_a_story_page_speaks_the_newsletters_language_and_keeps_the_storys(edition: Edition) -> None:
    edition_id, story_id = _text_story(edition, "Nouvelles du port")
    with edition.store.transaction() as conn:
        conn.execute("UPDATE stories SET language = 'en' WHERE id = ?", (story_id,))
    edition.store.update_list(edition.config.settings.default_list, language="de")  # the newsletter's language
    send_to_a_reader(edition.store, edition.config, edition_id)
    with TestClient(create_app(edition.config)) as c:
        tree = lxml.html.fromstring(c.get(f"/stories/{story_id}").text)
    assert tree.xpath("/html/@lang") == ["de"] and tree.xpath("/html/@dir") == ["ltr"]
    assert tree.xpath("//h1/ancestor::div/@lang") == ["en"]  # the story keeps its own language
    assert "alle Ausgaben" in tree.xpath("//nav/a")[0].text_content()
