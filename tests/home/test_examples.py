"""The example feeds that ``digest init --example`` writes: well-formed, fresh, and readable by the collector."""

from __future__ import annotations

import json
from calendar import timegm
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import feedparser
import pytest

from digest.collect.parse import parse_document
from digest.examples import ExampleSource, load_stories, story_url, thumbnail_url, write_example_feeds

NOW = datetime(2026, 11, 24, 7, 0, tzinfo=UTC)
DATA = load_stories()
SOURCES: dict[str, dict[str, Any]] = {s["name"]: s for s in DATA["sources"]}


@pytest.fixture
def written(tmp_path: Path) -> list[ExampleSource]:
    return write_example_feeds(tmp_path / "feeds", NOW)


def expected_when(story: dict[str, Any]) -> datetime:
    return NOW - timedelta(hours=story["hours_ago"])


def parsed_when(entry: Any) -> datetime:
    return datetime.fromtimestamp(timegm(entry.published_parsed), UTC)


def test_stories_json_shape() -> None:
    sources = DATA["sources"]
    assert len(sources) == 4
    assert sorted(s["format"] for s in sources) == ["atom", "jsonfeed", "rss", "rss"]
    stories = [story for s in sources for story in s["stories"]]
    assert 30 <= len(stories) <= 40
    assert len({story["slug"] for story in stories}) == len(stories), "slugs must be unique (thumbnail seeds)"
    for source in sources:
        assert source["site"].startswith("https://") and source["site"].endswith(".example")
        assert 0.5 <= source["weight"] <= 2.0
        for story in source["stories"]:
            assert 1 <= story["hours_ago"] <= 60
            assert story["title"] and story["summary"] and story["author"] and story["tags"]
            assert 2 <= len(story["body"].split("\n\n")) <= 4
    assert any("&" in s["title"] and '"' in s["title"] for s in stories)


def test_writes_one_file_per_source(written: list[ExampleSource], tmp_path: Path) -> None:
    assert [s.name for s in written] == list(SOURCES)
    for source in written:
        assert source.path.parent == tmp_path / "feeds" and source.path.is_file()
        fmt = SOURCES[source.name]["format"]
        assert source.path.suffix == (".json" if fmt == "jsonfeed" else ".xml")
        assert source.weight == SOURCES[source.name]["weight"]
        assert source.tags == SOURCES[source.name]["tags"]


def test_rss_and_atom_read_by_feedparser(written: list[ExampleSource]) -> None:
    checked = 0
    for source in written:
        spec = SOURCES[source.name]
        if spec["format"] == "jsonfeed":
            continue
        parsed = feedparser.parse(source.path.read_bytes())
        assert not parsed.bozo, parsed.get("bozo_exception")
        assert parsed.version.startswith("rss20" if spec["format"] == "rss" else "atom10")
        assert parsed.feed.title == spec["name"]
        assert len(parsed.entries) == len(spec["stories"])
        for entry, story in zip(parsed.entries, spec["stories"], strict=True):
            url = story_url(spec["site"], story["slug"])
            assert entry.title == story["title"]
            assert entry.link == url and entry.id == url
            assert parsed_when(entry) == expected_when(story)
            assert entry.author == story["author"]
            assert entry.summary == story["summary"]
            assert entry.content[0].value.count("<p>") == len(story["body"].split("\n\n"))
            assert [t.term for t in entry.tags] == story["tags"]
            if "comments" in story:
                assert int(entry.slash_comments) == story["comments"]
            if story.get("image"):
                assert entry.media_thumbnail[0]["url"] == thumbnail_url(story["slug"])
                assert (entry.media_thumbnail[0]["width"], entry.media_thumbnail[0]["height"]) == ("600", "400")
            else:
                assert "media_thumbnail" not in entry
            checked += 1
    assert checked == sum(len(s["stories"]) for s in DATA["sources"] if s["format"] != "jsonfeed")


def test_json_feed(written: list[ExampleSource]) -> None:
    (source,) = [s for s in written if SOURCES[s.name]["format"] == "jsonfeed"]
    spec = SOURCES[source.name]
    doc = json.loads(source.path.read_text(encoding="utf-8"))
    assert doc["version"] == "https://jsonfeed.org/version/1.1"
    assert doc["title"] == spec["name"]
    assert len(doc["items"]) == len(spec["stories"])
    for item, story in zip(doc["items"], spec["stories"], strict=True):
        url = story_url(spec["site"], story["slug"])
        assert item["id"] == url and item["url"] == url
        assert item["title"] == story["title"]
        assert item["summary"] == story["summary"]
        assert datetime.fromisoformat(item["date_published"].replace("Z", "+00:00")) == expected_when(story)
        assert item["authors"] == [{"name": story["author"]}]
        assert item["tags"] == story["tags"]
        assert item["content_html"].startswith("<p>")
        if story.get("image"):
            assert item["image"] == thumbnail_url(story["slug"])
        else:
            assert "image" not in item


def test_ampersand_and_quotes_survive(written: list[ExampleSource]) -> None:
    tricky = {s["title"] for src in DATA["sources"] for s in src["stories"] if "&" in s["title"]}
    assert 'Q&A: "Why we rebuilt the parser"' in tricky
    titles: set[str] = set()
    for source in written:
        data = source.path.read_bytes()
        if source.path.suffix == ".xml":
            if any(s["title"] in tricky for s in SOURCES[source.name]["stories"]):
                assert b"&amp;" in data  # escaped once, not double-escaped or raw
                assert b"&amp;amp;" not in data
            titles |= {e.title for e in feedparser.parse(data).entries}
        else:
            titles |= {i["title"] for i in json.loads(data)["items"]}
        titles |= {s.title for s in parse_document(data).stories}
    assert tricky <= titles


@pytest.mark.parametrize("name", list(SOURCES))
def test_parse_document_reads_every_story(written: list[ExampleSource], name: str) -> None:
    (source,) = [s for s in written if s.name == name]
    spec = SOURCES[name]
    doc = parse_document(source.path.read_bytes())
    assert doc.kind == spec["format"]
    assert doc.warning is None
    assert len(doc.stories) == len(spec["stories"])
    for got, story in zip(doc.stories, spec["stories"], strict=True):
        assert got.title == story["title"]
        assert got.url == story_url(spec["site"], story["slug"])
        assert got.published_at == expected_when(story)
        assert got.image_url == (thumbnail_url(story["slug"]) if story.get("image") else None)
        assert got.author == story["author"]
        assert got.tags == story["tags"]
        if spec["format"] != "jsonfeed":
            assert got.comments == story.get("comments")


def test_dates_follow_now(tmp_path: Path) -> None:
    later = NOW + timedelta(days=30, seconds=0.5)
    (first, *_) = write_example_feeds(tmp_path, later)
    story = SOURCES[first.name]["stories"][0]
    entry = feedparser.parse(first.path.read_bytes()).entries[0]
    assert parsed_when(entry) == later.replace(microsecond=0) - timedelta(hours=story["hours_ago"])
