"""rank and build through the CLI: history across editions, nothing new, frozen editions, --explain, --json."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from digest.store import Store
from tests.support import NOW
from tests.support.rank import source, story

DAY1 = NOW.isoformat()
DAY2 = (NOW + timedelta(days=1)).isoformat()


def newsletter(cli, store: Store) -> None:
    cli("lists", "add", "main", "--from-email", "news@example.com")
    cli("subscribers", "add", "ada@example.com", "--list", "main")


def test_what_went_out_is_not_picked_again_even_from_another_outlet(cli, store: Store) -> None:
    newsletter(cli, store)
    a, b = source(store, "alpha"), source(store, "beta")
    story(store, a, "Volcano erupts near coastal village, thousands evacuated", hours_ago=2)
    story(store, a, "Library extends its opening hours", hours_ago=3)
    first = json.loads(cli("build", "--now", DAY1, "--json").stdout)
    assert [s["title"] for s in first["stories"]] == [
        "Volcano erupts near coastal village, thousands evacuated",
        "Library extends its opening hours",
    ]
    # built but not sent: it did not go out, so the next day may pick the same stories
    assert len(json.loads(cli("rank", "--now", DAY2, "--json").stdout)["stories"]) == 2
    cli("send", "--date", NOW.date().isoformat(), "--json")

    story(store, b, "Thousands evacuated as volcano erupts near coastal village", hours_ago=-20)
    fresh = story(store, b, "Ferry timetable changes for winter", hours_ago=-22)
    ranked = json.loads(cli("rank", "--now", DAY2, "--json").stdout)
    assert [s["story_id"] for s in ranked["stories"]] == [fresh]
    reasons = {r["title"]: r["reason"] for r in ranked["runners_up"]}
    volcano = reasons["Thousands evacuated as volcano erupts near coastal village"]
    assert volcano.startswith(f"went out in edition {first['edition']} on {NOW.date().isoformat()} (as story")
    assert reasons["Library extends its opening hours"].startswith(f"went out in edition {first['edition']}")
    second = json.loads(cli("build", "--now", DAY2, "--json").stdout)
    assert [s["story_id"] for s in second["stories"]] == [fresh]
    # rebuilding the first day's edition (already sent) keeps it exactly as it was
    again = json.loads(cli("build", "--now", DAY1, "--json").stdout)
    assert again == first


def test_nothing_new_says_so_and_is_configurable(cli, store: Store, home: Path) -> None:
    newsletter(cli, store)
    s = source(store, "alpha")
    story(store, s, "Only story of the day on the harbour", hours_ago=1)
    (home / "digest.toml").write_text("[rank]\nmin_stories = 2\n", encoding="utf-8")
    result = cli("build", "--now", DAY1, "--json", code=1)
    error = json.loads(result.stdout)["error"]  # under --json the error is the one document on stdout
    line, code = error["message"], error["exit_code"]
    assert code == 1 and "min_stories" in error["hint"]
    assert "nothing new for 'main'" in line and "1 new stories" in line and "min_stories" in line
    assert store.scalar("SELECT count(*) FROM editions") == 0
    (home / "digest.toml").write_text("[rank]\nmin_stories = 2\nskip_when_nothing_new = false\n", encoding="utf-8")
    built = json.loads(cli("build", "--now", DAY1, "--json").stdout)
    assert len(built["stories"]) == 1
    # with nothing at all, even that setting cannot build an empty edition
    (home / "digest.toml").write_text("[rank]\nskip_when_nothing_new = false\nwindow_hours = 0.5\n", encoding="utf-8")
    cli("build", "--now", DAY1, "--date", "2026-11-25", code=1)


def test_build_json_shape_and_frozen_parts(cli, store: Store) -> None:
    newsletter(cli, store)
    a, b = source(store, "alpha", 2.0), source(store, "beta")
    first = story(store, a, "Harbour crane collapses during storm", hours_ago=1, comments=12)
    story(store, b, "Storm: harbour crane collapses", hours_ago=2)
    built = json.loads(cli("build", "--now", DAY1, "--json").stdout)
    assert set(built) == {"edition", "list", "date", "subject", "stories", "warnings"}
    assert built["warnings"] == []
    assert built["list"] == "main" and built["date"] == NOW.date().isoformat()
    [entry] = built["stories"]
    assert {"rank", "story_id", "title", "url", "score", "why"} <= set(entry)
    assert entry["rank"] == 1 and entry["story_id"] == first
    assert entry["why"]["source_factor"] == 2.0 and entry["why"]["outlets"] == 2
    assert entry["why"]["engagement_figures"] == {"comments": 12}
    assert entry["also"] == [
        {
            "story_id": first + 1,
            "title": "Storm: harbour crane collapses",
            "url": store.story(first + 1).url,
            "source": "beta",
        }
    ]
    row = store.row("SELECT score, why, also FROM edition_stories WHERE edition_id = ?", (built["edition"],))
    assert round(row["score"], 6) == entry["score"] and json.loads(row["why"]) == entry["why"]
    # a later collection that changes the story does not change the frozen edition
    store.conn.execute("UPDATE stories SET title = 'Changed later' WHERE id = ?", (first,))
    [frozen] = store.edition_stories(built["edition"])
    assert frozen.title == "Harbour crane collapses during storm"


def test_same_store_and_now_build_the_same_edition(cli, store: Store) -> None:
    newsletter(cli, store)
    sources = [source(store, f"s{i}") for i in range(3)]
    for i, topic in enumerate(["Ferry", "School", "Bakery", "Museum", "Stadium", "Harbour", "Library", "Airport"]):
        story(store, sources[i % 3], f"{topic} news of the day", hours_ago=2)
    one = json.loads(cli("build", "--now", DAY1, "--json").stdout)
    two = json.loads(cli("build", "--now", DAY1, "--json").stdout)
    assert [s["story_id"] for s in one["stories"]] == [s["story_id"] for s in two["stories"]]
    assert [s["why"] for s in one["stories"]] == [s["why"] for s in two["stories"]]


def test_rank_explain_shows_parts_and_why_runners_up_lost(cli, store: Store, home: Path) -> None:
    s, t = source(store, "alpha"), source(store, "beta")
    story(store, s, "Harbour dredging begins", hours_ago=1)
    story(store, s, "Airport runway resurfaced", hours_ago=2)
    story(store, t, "Crypto exchange collapses", hours_ago=1)
    (home / "digest.toml").write_text('[rank]\nper_source = 1\nblock = ["crypto"]\n', encoding="utf-8")
    before = (home / "digest.db").read_bytes()
    out = cli("rank", "--now", DAY1, "--explain").stdout
    assert " 1." in out and "Harbour dredging begins" in out
    assert "recency 0.97" in out and "source_factor" not in out.split("Runners-up")[0].split("=")[0]
    runners = out.split("Runners-up:")[1]
    assert "lost: already 1 stories from alpha" in runners and "lost: blocked by 'crypto'" in runners
    data = json.loads(cli("rank", "--now", DAY1, "--json").stdout)
    assert [r["title"] for r in data["stories"]] == ["Harbour dredging begins"]
    assert {r["reason"] for r in data["runners_up"]} == {"already 1 stories from alpha", "blocked by 'crypto'"}
    assert set(data["stories"][0]["why"]) >= {
        "recency",
        "engagement",
        "coverage",
        "keywords",
        "pinned",
        "source_factor",
        "age_hours",
        "outlets",
    }
    assert (home / "digest.db").read_bytes() == before  # rank writes nothing


def test_bad_rank_options_are_one_line(cli, store: Store) -> None:
    result = cli("rank", "--now", "yesterday", code=1)
    assert len(result.stderr.strip().splitlines()) == 1 and "--now" in result.stderr
    result = cli("rank", "--list", "nope", code=1)
    assert "no list named 'nope'" in result.stderr and "Traceback" not in result.stderr + result.stdout


def test_run_skips_a_list_with_nothing_new(cli, store: Store, home: Path) -> None:
    newsletter(cli, store)
    feed = home / "empty.xml"
    feed.write_text('<rss version="2.0"><channel><title>Quiet</title></channel></rss>', encoding="utf-8")
    story(store, source(store, "alpha", location=str(feed)), "Only story on the harbour", hours_ago=1)
    first = json.loads(cli("run", "--now", DAY1, "--json").stdout)
    assert first["lists"][0]["sent"] == 1
    second = json.loads(cli("run", "--now", DAY2, "--json").stdout)
    [entry] = second["lists"]
    assert "nothing new for 'main'" in entry["skipped"]
    assert store.scalar("SELECT count(*) FROM editions") == 1


def test_rank_explain_prints_story_ids(cli, store: Store) -> None:
    a, b = source(store, "alpha"), source(store, "beta")
    first = story(store, a, "Volcano erupts near coastal village, thousands evacuated", hours_ago=2)
    second = story(store, b, "Thousands evacuated as volcano erupts near coastal village", hours_ago=3)
    out = cli("rank", "--now", DAY1, "--explain").stdout
    [top] = [line for line in out.splitlines() if line.startswith(" 1.")]
    assert top.endswith(f"story {first}")
    assert f"also covered by: beta (story {second})" in out


def test_an_empty_window_says_how_old_the_newest_story_is_and_names_the_window(cli, store: Store, home: Path) -> None:
    newsletter(cli, store)
    s = source(store, "alpha")
    story(store, s, "Old news about the harbour", hours_ago=24 * 5 + 3)
    newest = story(store, s, "Less old news about the ferry", hours_ago=24 * 4 + 2)
    out = cli("rank", "--now", DAY1).stdout
    assert f"the newest (story {newest}) is 4 day(s) 2 hour(s) old" in out and "window_hours" in out
    assert "window_hours to at least 99" in json.loads(cli("rank", "--now", DAY1, "--json").stdout)["advice"]
    [line] = cli("build", "--now", DAY1, code=1).stderr.strip().splitlines()
    assert "72-hour window" in line and "window_hours" in line and "min_stories" not in line
    (home / "digest.toml").write_text("[rank]\nwindow_hours = 99\n", encoding="utf-8")
    assert json.loads(cli("build", "--now", DAY1, "--json").stdout)["stories"][0]["story_id"] == newest
