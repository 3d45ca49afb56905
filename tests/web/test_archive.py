"""The public archive shows only editions that went out: per list, with an Atom feed, under any sub-path."""

from __future__ import annotations

import json
from pathlib import Path

import feedparser
import lxml.html
import pytest
from starlette.testclient import TestClient

from digest.config import load
from digest.web import create_app
from tests.support.archive import send_to_a_reader
from tests.support.render import STORIES, Edition, edition_fixture, seed  # noqa: F401


def sent(edition: Edition, edition_id: int, list_name: str = "golden") -> None:
    send_to_a_reader(edition.store, edition.config, edition_id, list_name)


@pytest.fixture
def three(edition: Edition) -> dict[str, int]:
    """golden: one sent edition (the 24th) and one draft (the 23rd); other: one sent (the 20th); a future draft."""
    draft, _ = seed(
        edition.store, [{"title": "Draft only story", "url": "https://d.example/1", "source": "D"}], date="2026-11-23"
    )
    future, _ = seed(
        edition.store, [{"title": "Future story", "url": "https://f.example/1", "source": "F"}], date="2026-11-30"
    )
    other, _ = seed(
        edition.store,
        [{"title": "Other list story", "url": "https://x.example/1", "source": "X"}],
        list_name="other",
        date="2026-11-20",
        config=edition.config,
    )
    sent(edition, edition.edition_id)
    sent(edition, other, "other")
    return {"sent": edition.edition_id, "draft": draft, "future": future, "other": other}


def test_the_archive_lists_and_serves_only_editions_sent_to_a_reader(edition: Edition, three: dict[str, int]) -> None:
    with TestClient(create_app(edition.config)) as c:
        index = c.get("/editions")
        hrefs = lxml.html.fromstring(index.text).xpath("//li/a/@href")
        assert hrefs == [f"editions/{three['sent']}", f"editions/{three['other']}"]
        assert "Draft only story" not in index.text and "Future story" not in index.text
        assert c.get(f"/editions/{three['sent']}").status_code == 200
        assert c.get(f"/editions/{three['draft']}").status_code == 404
        assert c.get(f"/editions/{three['future']}").status_code == 404


def test_a_sent_edition_dated_later_than_today_stays_out_until_its_day(edition: Edition) -> None:
    future, _ = seed(
        edition.store, [{"title": "Tomorrow's story", "url": "https://t.example/1", "source": "T"}], date="2026-11-25"
    )
    sent(edition, future)
    with TestClient(create_app(edition.config)) as c:
        assert c.get(f"/editions/{future}").status_code == 404
        assert "Tomorrow" not in c.get("/lists/golden/feed.atom").text


def test_each_list_has_its_own_page_with_links_relative_to_it(edition: Edition, three: dict[str, int]) -> None:
    with TestClient(create_app(edition.config)) as c:
        golden = c.get("/lists/golden/")
        assert golden.status_code == 200
        doc = lxml.html.fromstring(golden.text)
        assert doc.xpath("//li/a/@href") == [f"../../editions/{three['sent']}"]
        assert doc.xpath("//link[@type='application/atom+xml']/@href") == ["feed.atom"]
        assert "Other list story" not in golden.text
        other = lxml.html.fromstring(c.get("/lists/other/").text)
        assert other.xpath("//li/a/@href") == [f"../../editions/{three['other']}"]
        assert c.get("/lists/nope/").status_code == 404
        assert c.get("/lists/nope/feed.atom").status_code == 404


def test_the_feed_of_a_list_is_valid_atom_with_each_sent_editions_full_content(
    edition: Edition, three: dict[str, int]
) -> None:
    with TestClient(create_app(edition.config)) as c:
        response = c.get("/lists/golden/feed.atom")
    assert response.status_code == 200 and response.headers["content-type"].startswith("application/atom+xml")
    feed = feedparser.parse(response.content)
    assert feed.bozo == 0, feed.get("bozo_exception")
    assert feed.version == "atom10"
    assert [e.link for e in feed.entries] == [f"https://news.example/editions/{three['sent']}"]
    entry = feed.entries[0]
    assert entry.title == "Wayfarer browser finally drops third-party cookies + 4 more"
    content = entry.content[0].value
    for story in STORIES:
        assert lxml.html.fromstring(story["title"]).text_content() in lxml.html.fromstring(content).text_content()
    assert "Draft only story" not in response.text and "Future story" not in response.text
    assert feed.feed.links[0].href == "https://news.example/lists/golden/feed.atom"


def test_the_archive_answers_under_the_sub_path_of_public_url(
    edition: Edition, three: dict[str, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DIGEST_PUBLIC_URL", "https://example.org/news/")
    config = load(edition.config.home)
    with TestClient(create_app(config), base_url="https://example.org") as c:
        page = c.get("/news/lists/golden/")
        assert page.status_code == 200
        link = lxml.html.fromstring(page.text).xpath("//li/a/@href")[0]
        target = c.get(str(page.url.join(link)))
        assert target.url.path == f"/news/editions/{three['sent']}" and target.status_code == 200
        assert "Wayfarer browser" in target.text
        feed = feedparser.parse(c.get("/news/lists/golden/feed.atom").content)
        assert feed.bozo == 0 and feed.entries[0].link == f"https://example.org/news/editions/{three['sent']}"
        assert c.get("/editions").status_code == 200  # a proxy that strips the sub-path works too


def test_render_archive_writes_only_sent_editions_with_a_page_and_feed_per_list(
    edition: Edition,
    three: dict[str, int],
    cli,  # type: ignore[no-untyped-def]
    tmp_path: Path,
) -> None:
    out = tmp_path / "site"
    report = json.loads(cli("render", "--archive", str(out), "--json").stdout)
    assert report["editions"] == 2
    assert sorted(p.name for p in (out / "editions").iterdir()) == sorted(
        [f"{three['sent']}.html", f"{three['other']}.html"]
    )
    golden = lxml.html.fromstring((out / "lists" / "golden" / "index.html").read_text())
    link = golden.xpath("//li/a/@href")[0]
    assert (out / "lists" / "golden" / link).resolve() == (out / "editions" / f"{three['sent']}.html").resolve()
    feed = feedparser.parse((out / "lists" / "golden" / "feed.atom").read_bytes())
    assert feed.bozo == 0 and len(feed.entries) == 1
    assert "Draft only story" not in (out / "index.html").read_text()


def test_an_edition_sent_where_the_date_is_ahead_of_utc_is_in_the_archive_at_once(
    cli, home: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    """In Kiritimati (UTC+14) the edition of the 25th goes out while UTC is on the 24th: its links work at once."""
    monkeypatch.setenv("DIGEST_TIMEZONE", "Pacific/Kiritimati")
    monkeypatch.setenv("DIGEST_NOW", "2026-11-24T11:00:00Z")
    cli("init", "--example")
    run = json.loads(cli("run", "--json").stdout)
    assert [(r["date"], r["sent"] > 0) for r in run["lists"]] == [("2026-11-25", True)]
    edition_id = run["lists"][0]["edition"]
    config = load(home)
    with TestClient(create_app(config)) as c:
        assert c.get(f"/editions/{edition_id}").status_code == 200
        assert f"editions/{edition_id}" in c.get("/editions").text
    out = tmp_path / "site"
    cli("render", "--archive", str(out))
    assert (out / "editions" / f"{edition_id}.html").is_file()


def test_the_archive_and_feed_name_a_list_by_its_title(cli, home: Path) -> None:  # type: ignore[no-untyped-def]
    cli("init", "--example")
    cli("lists", "edit", "main", "--title", "Harbor Weekly")
    run = json.loads(cli("run", "--json").stdout)
    assert run["lists"][0]["sent"] > 0
    with TestClient(create_app(load(home))) as c:
        index = c.get("/editions").text
        page = c.get("/lists/main/").text
        feed = feedparser.parse(c.get("/lists/main/feed.atom").content)
    assert "Harbor Weekly" in index and "Harbor Weekly" in page
    assert "Harbor Weekly" in feed.feed.title and ": main" not in feed.feed.title
