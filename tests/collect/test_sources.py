"""Sources as readers and editors meet them: display names, readable unique names, edit, OPML in and out."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from digest.collect import collect
from digest.collect.sources import default_name, import_opml
from digest.config import load
from digest.errors import SourceError
from digest.store import Store
from tests.support import NOW
from tests.support.collect import story_count, write


def feed(title: str, site: str, *headlines: str) -> str:
    items = "".join(
        f"<item><title>{h}</title><link>{site}/{h.lower().replace(' ', '-')}</link>"
        f"<guid>{site}/{h}</guid><description>{h}, as {title} reports it.</description>"
        f"<pubDate>Tue, 24 Nov 2026 05:00:00 GMT</pubDate></item>"
        for h in headlines
    )
    return (
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>{title}</title><link>{site}/</link>'
        f"{items}</channel></rss>"
    )


HARBOUR = (
    "Harbour Times",
    "https://harbour.example",
    "Ferry strike ends",
    "Crane collapses",
    "Dock reopens",
    "Tug sinks",
)
VALLEY = ("Valley Post", "https://valley.example", "Orchard floods", "School shuts", "Mill burns", "Road reopens")


def test_files_collected_directly_become_sources_named_after_their_feeds(
    store: Store, initialised: Path, tmp_path: Path
) -> None:
    one = write(tmp_path / "a" / "feed.xml", feed(*HARBOUR))
    two = write(tmp_path / "b" / "feed.xml", feed(*VALLEY))
    report = collect(store, load(initialised), [str(one), str(two)], now=NOW)
    assert report.new == 8 and report.failed == 0
    names = sorted(s.name for s in store.sources())
    assert names == ["harbour-times", "valley-post"]
    assert {s.display_name for s in store.sources()} == {"Harbour Times", "Valley Post"}
    assert {s.site for s in store.sources()} == {"harbour.example", "valley.example"}
    again = collect(store, load(initialised), [str(one), str(two)], now=NOW)
    assert again.new == 0 and len(store.sources()) == 2  # the same files are the same sources


def test_an_ad_hoc_edition_has_stories_from_each_feed_under_its_title(cli, initialised: Path, tmp_path: Path) -> None:  # noqa: ANN001
    one = write(tmp_path / "harbour.xml", feed(*HARBOUR))
    two = write(tmp_path / "valley.xml", feed(*VALLEY))
    cli("lists", "add", "main", "--from-email", "news@example.com")
    cli("subscribers", "add", "ada@example.com", "--list", "main")
    cli("collect", str(one), str(two))
    built = json.loads(cli("build", "--json").stdout)
    sources = [s["source"] for s in built["stories"]]
    assert sources.count("Harbour Times") == 3 and sources.count("Valley Post") == 3  # per_source = 3 each
    text = cli("render", "--format", "text").stdout
    assert "Harbour Times" in text and "Valley Post" in text
    assert "harbour-times" not in text and "harbour.xml" not in text
    html = cli("render", "--format", "html").stdout
    assert "Valley Post" in html and "valley-post" not in html


def test_default_names_are_unique_and_readable(store: Store, tmp_path: Path) -> None:
    store.add_source(default_name(store, "https://www.example.org/feed.xml"), "https://www.example.org/feed.xml")
    second = default_name(store, "https://example.org/sport/rss")
    assert second == "example.org-sport"
    store.add_source(second, "https://example.org/sport/rss")
    assert default_name(store, "https://example.org/sport/rss?page=2") == "example.org-2"
    assert default_name(store, str(tmp_path / "My Feeds" / "tech news.xml")) == "tech-news"
    assert default_name(store, "https://x.example/f", "Le Monde — Économie") == "le-monde-économie"


def test_sources_add_never_refuses_a_second_feed_from_the_same_host(initialised: Path, cli) -> None:  # noqa: ANN001
    cli("sources", "add", "https://news.example/world/feed")
    cli("sources", "add", "https://news.example/sport/feed")
    cli("sources", "add", "https://news.example/feed")
    names = [s["name"] for s in json.loads(cli("sources", "list", "--json").stdout)]
    assert sorted(names) == ["news.example", "news.example-2", "news.example-sport"]


def test_sources_edit_title_weight_tags_and_rename_keeps_the_stories(
    cli, store: Store, initialised: Path, tmp_path: Path
) -> None:  # noqa: ANN001
    path = write(tmp_path / "feed.xml", feed(*HARBOUR))
    cli("sources", "add", str(path), "--name", "ht", "--tag", "local")
    cli("collect")
    assert store.source("ht").display_name == "Harbour Times"
    edited = json.loads(
        cli(
            "sources", "edit", "ht", "--title", "The Harbour", "--weight", "2", "--tag", "port", "--tag", "daily",
            "--rename", "harbour", "--json",
        ).stdout
    )  # fmt: skip
    assert edited["name"] == "harbour" and edited["display_name"] == "The Harbour" and edited["weight"] == 2.0
    assert edited["tags"] == ["port", "daily"]
    assert store.source_story_count(edited["id"]) == 4  # renamed, not orphaned
    story = store.story(store.stories()[0].id)
    assert story.source == "The Harbour" and story.source_weight == 2.0
    cli("collect")
    assert story_count(store) == 4 and store.source("harbour").display_name == "The Harbour"  # a collect keeps it
    cli("sources", "edit", "harbour", "--title", "")
    assert store.source("harbour").display_name == "Harbour Times"  # back to the feed's own title
    cli("sources", "add", "https://other.example/feed", "--name", "other")
    taken = cli("sources", "edit", "harbour", "--rename", "other", code=1)
    assert len(taken.stderr.strip().splitlines()) == 1 and "--rename" in taken.stderr
    missing = cli("sources", "edit", "nope", "--weight", "1", code=1)
    assert "sources list" in missing.stderr


OPML = """<?xml version="1.0" encoding="UTF-8"?>
<opml version="1.0"><head><title>My feeds</title></head><body>
  <outline text="Tech">
    <outline type="rss" text="The Verge" title="The Verge" xmlUrl="https://www.theverge.com/rss/index.xml"/>
    <outline type="rss" text="Ars" xmlUrl="https://feeds.arstechnica.com/arstechnica/index" category="/science,/it"/>
  </outline>
  <outline type="rss" text="Local" xmlUrl="https://news.example/feed"/>
  <outline type="rss" text="Bad" xmlUrl="javascript:alert(1)"/>
</body></opml>
"""


def test_opml_import_adds_feeds_with_folders_as_tags_and_export_gives_them_back(
    cli, store: Store, initialised: Path, tmp_path: Path
) -> None:  # noqa: ANN001
    cli("sources", "add", "https://news.example/feed", "--name", "local")
    path = write(tmp_path / "feeds.opml", OPML)
    report = json.loads(cli("sources", "import", str(path), "--json").stdout)
    assert [a["name"] for a in report["added"]] == ["the-verge", "ars"]
    assert {s["location"] for s in report["skipped"]} == {"https://news.example/feed", "javascript:alert(1)"}
    verge, ars = store.source("the-verge"), store.source("ars")
    assert verge.display_name == "The Verge" and verge.tags == ("Tech",)
    assert ars.tags == ("Tech", "science", "it")
    exported = cli("sources", "export", "--opml").stdout
    assert exported.startswith("<?xml") and 'xmlUrl="https://www.theverge.com/rss/index.xml"' in exported
    other = Store(tmp_path / "other.db")
    try:
        again = import_opml(other, exported.encode())
        assert sorted(a["location"] for a in again.added) == sorted(s.location for s in store.sources())
        assert other.source("the-verge").display_name == "The Verge"
    finally:
        other.close()
    assert json.loads(cli("sources", "export", "--json").stdout)[0]["name"]


@pytest.mark.parametrize(
    ("data", "says"),
    [
        (
            b'<?xml version="1.0"?><!DOCTYPE opml [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;">]>'
            b'<opml><body><outline text="&b;" xmlUrl="https://x.example/f"/></body></opml>',
            "entities",
        ),
        (
            b'<?xml version="1.0"?><!DOCTYPE opml [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
            b'<opml><body><outline text="&x;" xmlUrl="https://x.example/f"/></body></opml>',
            "entities",
        ),
        (b"<opml><body><outline", "not well-formed"),
        (b"<rss><channel/></rss>", "not an OPML file"),
    ],
)
def test_hostile_or_wrong_opml_is_refused_in_one_line(store: Store, data: bytes, says: str) -> None:
    with pytest.raises(SourceError, match=says):
        import_opml(store, data)
    assert store.sources() == []


def test_a_wrong_opml_file_through_the_cli_is_one_line(cli, initialised: Path, tmp_path: Path) -> None:  # noqa: ANN001
    path = write(tmp_path / "x.opml", "<html><body>hi</body></html>")
    result = cli("sources", "import", str(path), code=1)
    assert len(result.stderr.strip().splitlines()) == 1 and "OPML" in result.stderr
    assert "does not exist" in cli("sources", "import", str(tmp_path / "none.opml"), code=1).stderr


def test_corpus_feeds_collected_ad_hoc_make_an_edition_from_each_under_its_title(
    corpus: Path, cli, initialised: Path
) -> None:  # noqa: ANN001
    wellformed = corpus / "feeds" / "wellformed"
    files = ["rss2/w3stling__techcrunch.xml", "rss2/rsparser__KatieFloyd.rss", "atom/rss2email__bbc-chinese.atom"]
    files += ["rss2/rsparser__manton.rss"]
    (initialised / "digest.toml").write_text(
        "[rank]\nwindow_hours = 500000\nhalf_life_hours = 500000\nmax_stories = 12\nper_source = 3\n", encoding="utf-8"
    )
    cli("lists", "add", "main", "--from-email", "news@example.com")
    cli("subscribers", "add", "ada@example.com", "--list", "main")
    cli("collect", *(str(wellformed / f) for f in files))
    titles = {"TechCrunch", "Katie Floyd", "bbcchinese.com | 主页", "Manton Reece"}
    assert {s["display_name"] for s in json.loads(cli("sources", "list", "--json").stdout)} == titles
    built = json.loads(cli("build", "--json").stdout)
    shown = [s["source"] for s in built["stories"]]
    assert titles - {"bbcchinese.com | 主页"} <= set(shown) <= titles  # (the two BBC items are years older)
    assert all(shown.count(t) <= 3 for t in titles)
    text = cli("render", "--format", "text").stdout
    assert all(name in text for name in shown)
    internal = [s["name"] for s in json.loads(cli("sources", "list", "--json").stdout)]
    assert not [n for n in internal if "-" in n and n in text] and not [f for f in files if Path(f).name in text]
