"""Identity and re-collection: nothing twice, changes updated, one story per article across feeds."""

from __future__ import annotations

import json
from pathlib import Path

from digest.collect import collect
from digest.config import load
from digest.store import Store
from tests.support import NOW
from tests.support.collect import rss, story_count, write


def items(*titles: str, site: str = "https://site.example") -> list[dict[str, str]]:
    return [
        {"title": t, "link": f"{site}/{t.lower().replace(' ', '-')}", "guid": f"g-{t}", "description": f"About {t}."}
        for t in titles
    ]


def test_collecting_twice_adds_nothing_and_a_changed_item_is_updated(
    store: Store, initialised: Path, tmp_path: Path
) -> None:
    path = write(tmp_path / "feed.xml", rss(items("One", "Two", "Three")))
    store.add_source("f", str(path))
    config = load(initialised)
    assert collect(store, config, now=NOW).new == 3
    again = collect(store, config, now=NOW)
    assert (again.new, again.updated, again.unchanged) == (0, 0, 3)  # same bytes: not even parsed
    changed = items("One", "Two", "Three")
    changed[1]["description"] = "About Two, now with a correction."
    write(path, rss(changed))
    third = collect(store, config, now=NOW)
    assert (third.new, third.updated, third.unchanged) == (0, 1, 2)
    assert story_count(store) == 3
    two = next(s for s in store.stories() if s.title == "Two")
    assert "correction" in store.story(two.id).body_text


def test_same_url_from_two_feeds_of_one_site_is_one_story(store: Store, initialised: Path, tmp_path: Path) -> None:
    atom = write(
        tmp_path / "site.atom",
        """<feed xmlns="http://www.w3.org/2005/Atom">
      <title>Site</title><link href="https://site.example/"/>
      <entry><title>Shared post</title><id>tag:site.example,2026:1</id>
        <link href="https://site.example/shared-post?utm_source=atom"/><content>Atom text.</content></entry>
      <entry><title>Linked</title><id>tag:site.example,2026:2</id>
        <link rel="alternate" href="https://elsewhere.example/thing"/>
        <link rel="related" href="https://site.example/linked/thing"/><content>Look.</content></entry>
    </feed>""",
    )
    json_feed = write(
        tmp_path / "site.json",
        json.dumps(
            {
                "version": "https://jsonfeed.org/version/1.1",
                "title": "Site",
                "home_page_url": "https://site.example/",
                "items": [
                    {
                        "id": "https://site.example/shared-post",
                        "url": "https://site.example/shared-post#x",
                        "title": "Shared post",
                        "content_html": "<p>JSON text.</p>",
                    },
                    {
                        "id": "https://site.example/linked/thing",
                        "url": "https://site.example/linked/thing",
                        "external_url": "https://elsewhere.example/thing",
                        "title": "Linked",
                        "content_text": "Look.",
                    },
                    {
                        "id": "only-json",
                        "url": "https://site.example/only-json",
                        "title": "Only in JSON",
                        "content_text": "x",
                    },
                ],
            }
        ),
    )
    store.add_source("atom", str(atom))
    store.add_source("json", str(json_feed))
    config = load(initialised)
    report = collect(store, config, now=NOW)
    assert report.new == 3 and report.unchanged == 2
    assert sorted(s.title for s in store.stories()) == ["Linked", "Only in JSON", "Shared post"]
    # and again, after both feeds changed their bytes but not those stories: still nothing new
    write(atom, atom.read_text().replace("<title>Site</title>", "<title>Site!</title>"))
    write(json_feed, json_feed.read_text().replace('"title": "Site"', '"title": "Site!"'))
    again = collect(store, config, now=NOW)
    assert (again.new, again.updated) == (0, 0) and story_count(store) == 3


def test_a_feed_repeating_a_guid_keeps_both_items(store: Store, initialised: Path, tmp_path: Path) -> None:
    page = "https://site.example/2026/11/24.html"
    path = write(
        tmp_path / "day.xml",
        rss(
            [
                {"guid": f"{page}#a1", "link": f"{page}#a1", "description": "Morning note."},
                {"guid": f"{page}#a1", "link": f"{page}#a1", "description": "A different note, same guid."},
                {"guid": f"{page}#a2", "link": f"{page}#a2", "description": "Third note."},
            ]
        ),
    )
    report = collect(store, load(initialised), [str(path)], now=NOW)
    assert report.new == 3 and story_count(store) == 3


def test_folders_of_articles_and_files_given_directly(store: Store, initialised: Path, tmp_path: Path) -> None:
    folder = tmp_path / "articles"
    write(folder / "one.txt", "The mayor opened the new bridge on Monday. Crowds cheered.\n\nTop Stories\n")
    write(folder / "two.md", "# Second Story\n\nBody of the second story.")
    write(folder / "broken.json", "{not json")
    report = collect(store, load(initialised), [str(folder)], now=NOW)
    [result] = report.sources
    assert result.new == 2 and result.error is None
    assert result.warning and "broken.json" in result.warning and "1 file(s) skipped" in result.warning
    titles = sorted(s.title for s in store.stories())
    assert titles == ["Second Story", "The mayor opened the new bridge on Monday"]


def test_sources_add_list_remove(initialised: Path, cli, tmp_path: Path) -> None:  # noqa: ANN001
    path = write(tmp_path / "feed.xml", rss(items("One", "Two")))
    added = json.loads(
        cli(
            "sources", "add", str(path), "--name", "mine", "--weight", "2", "--tag", "tech", "--tag", "daily", "--json"
        ).stdout
    )
    assert added["name"] == "mine" and added["tags"] == ["tech", "daily"]
    assert "already the source 'mine'" in cli("sources", "add", str(path), "--name", "again", code=1).stderr
    assert "does not exist" in cli("sources", "add", str(tmp_path / "nope.xml"), code=1).stderr
    cli("collect")
    [row] = json.loads(cli("sources", "list", "--json").stdout)
    assert (row["kind"], row["weight"], row["tags"], row["stories"]) == ("rss", 2.0, ["tech", "daily"], 2)
    assert row["last_success_at"] and row["consecutive_failures"] == 0 and row["last_error"] is None
    assert "content_hash" not in row
    table = cli("sources", "list").stdout
    assert "mine" in table and "tech,daily" in table
    cli("sources", "remove", "mine")
    assert json.loads(cli("sources", "list", "--json").stdout) == []
    assert len(json.loads(cli("stories", "list", "--json").stdout)) == 2  # its stories stay
    assert "no source named 'mine'" in cli("sources", "remove", "mine", code=1).stderr


def test_collect_with_nothing_to_do_and_a_missing_file(initialised: Path, cli, tmp_path: Path) -> None:  # noqa: ANN001
    assert "no sources" in cli("collect").stderr
    result = cli("collect", str(tmp_path / "missing.xml"), "--json", code=1)
    assert "does not exist" in json.loads(result.stdout)["sources"][0]["error"]


def test_links_that_differ_only_by_fragment_stay_distinct_posts_and_keep_pointing_at_them(
    store: Store, initialised: Path, tmp_path: Path
) -> None:
    page = "https://site.example/2026/11/24.html"
    path = write(
        tmp_path / "day.xml",
        rss(
            [
                {"link": f"{page}#a1", "description": "Morning note about the ferry."},
                {"link": f"{page}#a2", "description": "Noon note about the bridge."},
                {"link": f"{page}#a3", "description": "Evening note about the harbour."},
                {"title": "A post", "link": "https://site.example/post?utm_source=x#more", "description": "Text."},
            ]
        ),
    )
    report = collect(store, load(initialised), [str(path)], now=NOW)
    assert report.new == 4
    urls = sorted(s.url or "" for s in store.stories())
    assert urls == [f"{page}#a1", f"{page}#a2", f"{page}#a3", "https://site.example/post"]  # a lone #more goes
    assert collect(store, load(initialised), [str(path)], now=NOW).new == 0
