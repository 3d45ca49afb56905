"""Sponsored items: recognised by their labels, left out by default, kept when the editor says so."""

from __future__ import annotations

from pathlib import Path

import pytest

from digest.collect import collect
from digest.collect.sponsored import is_sponsored
from digest.config import load
from digest.models import StoryIn
from digest.store import Store
from tests.support import NOW
from tests.support.collect import rss, write

PAID = [
    "[Sponsor] Linode: cloud computing for developers",
    "Sponsored: Try the new project tracker free",
    "Partner content – How banks are changing",
    "Ten gadgets for the holidays (Advertorial)",
    "Sponsored by Acme: the future of widgets",
    "Anzeige: Jetzt Konto eröffnen",
    "Sponsor - Kolide makes device trust easy",
    "【PR】新製品のお知らせ",
]
NEWS = [
    "Club loses its shirt sponsor after the scandal",
    "Ad blockers rise across Europe",
    "Sponsorship deal collapses at the last minute",
    "Partner: the word of the year",
    "The ad that changed election campaigns",
    "Council names new PR chief",
]


@pytest.mark.parametrize("title", PAID)
def test_labelled_titles_are_sponsored(title: str) -> None:
    assert is_sponsored(StoryIn(title=title))


@pytest.mark.parametrize("title", NEWS)
def test_titles_that_only_mention_sponsors_or_ads_are_news(title: str) -> None:
    assert not is_sponsored(StoryIn(title=title))


@pytest.mark.parametrize("tag", ["Sponsored", "advertorial", "Sponsored Content", "Partner Content", "Anzeige"])
def test_labelled_categories_are_sponsored(tag: str) -> None:
    assert is_sponsored(StoryIn(title="A plain headline", tags=["Tech", tag]))
    assert not is_sponsored(StoryIn(title="A plain headline", tags=["Tech", f"{tag} rules explained"]))


def feed() -> str:
    items = [
        {"title": "Harbour bridge opens", "link": "https://site.example/bridge", "description": "It opened."},
        {"title": "[Sponsor] Linode", "link": "https://site.example/linode", "description": "Buy servers."},
        {
            "title": "Ten great mattresses",
            "link": "https://site.example/mattresses",
            "description": "Sleep well.",
            "category": "Sponsored",
        },
    ]
    return rss(items)


def test_sponsored_items_are_left_out_by_default_and_counted(store: Store, initialised: Path, tmp_path: Path) -> None:
    path = write(tmp_path / "feed.xml", feed())
    report = collect(store, load(initialised), [str(path)], now=NOW)
    assert report.new == 1 and report.sources[0].sponsored == 2
    assert [s.title for s in store.stories()] == ["Harbour bridge opens"]
    assert report.as_dict()["sources"][0]["sponsored"] == 2


def test_the_setting_keeps_them(store: Store, initialised: Path, tmp_path: Path) -> None:
    (initialised / "digest.toml").write_text('[collect]\nsponsored = "keep"\n', encoding="utf-8")
    path = write(tmp_path / "feed.xml", feed())
    report = collect(store, load(initialised), [str(path)], now=NOW)
    assert report.new == 3 and report.sources[0].sponsored == 0


def test_a_wrong_setting_is_one_line_naming_the_choices(initialised: Path, cli) -> None:  # noqa: ANN001
    (initialised / "digest.toml").write_text('[collect]\nsponsored = "hide"\n', encoding="utf-8")
    result = cli("collect", code=1)
    [line] = result.stderr.strip().splitlines()
    assert "sponsored" in line and "skip" in line and "keep" in line


def test_corpus_sponsor_posts_are_left_out_and_nothing_else(corpus: Path, initialised: Path, tmp_path: Path) -> None:
    wellformed = corpus / "feeds" / "wellformed"
    files = [str(p) for p in sorted(wellformed.rglob("*.*"))]
    store = Store(tmp_path / "corpus.db")
    try:
        report = collect(store, load(initialised), files, now=NOW)
        skipped = {r.location.rsplit("/", 1)[-1]: r.sponsored for r in report.sources if r.sponsored}
        assert skipped == {
            "rsparser__DaringFireball.atom": 2,
            "rsparser__DaringFireball.rss": 1,
            "rsparser__DaringFireball.json": 2,
            "rsparser__KatieFloyd.rss": 1,
        }
        titles = [r[0] for r in store.conn.execute("SELECT title FROM stories")]
        assert not [t for t in titles if "Sponsor" in t.split(" ")[0]]
    finally:
        store.close()
