"""Pins, drops and keywords are each list's own: what an editor does for one list leaves the others as they were."""

from __future__ import annotations

import json
from pathlib import Path

from sqlite_utils import Database

from digest.store import Store
from digest.store.migrations import migrations
from tests.support.newsletter import setup_newsletter
from tests.support.rank import ranked, source, story, titles

WHEN = "2026-11-24T07:00:00Z"


def _two_lists(store: Store) -> tuple[int, int]:
    store.add_list("morning", from_email="m@example.com")
    store.add_list("evening", from_email="e@example.com")
    return store.list_("morning").id, store.list_("evening").id


def test_a_pin_lifts_a_story_for_its_list_only(store: Store) -> None:
    morning, _ = _two_lists(store)
    s = source(store, "wire")
    story(store, s, "Fresh ferry strike news", hours_ago=1)
    old = story(store, s, "Week-old lighthouse restoration", hours_ago=24 * 7)  # outside the 72-hour window
    store.set_pick(morning, old, "pin")
    pinned = ranked(store, list_name="morning", pin_boost=100.0)
    assert pinned.picked[0].story_id == old and pinned.picked[0].why["pinned"] == 100.0
    other = ranked(store, list_name="evening", pin_boost=100.0)
    assert titles(other) == ["Fresh ferry strike news"]  # not pinned there, and too old to be a candidate
    assert titles(ranked(store, pin_boost=100.0)) == ["Fresh ferry strike news"]  # no list: nobody's pins
    assert store.story(old).pinned  # pinned on some list
    store.set_pick(morning, old, None)
    assert titles(ranked(store, list_name="morning")) == ["Fresh ferry strike news"] and not store.story(old).pinned


def test_a_drop_keeps_a_story_and_its_event_out_of_its_list_only(store: Store) -> None:
    morning, evening = _two_lists(store)
    a, b = source(store, "alpha"), source(store, "beta")
    dropped = story(
        store, a, "Volcano erupts near coastal village", hours_ago=1, summary="Lava reached the village overnight."
    )
    story(store, b, "Volcano erupts near coastal village", hours_ago=2, summary="Lava reached the village overnight.")
    story(store, a, "Bakery prices rise again", hours_ago=3)
    store.set_pick(morning, dropped, "drop")
    morning_result = ranked(store, list_name="morning")
    assert titles(morning_result) == ["Bakery prices rise again"]  # beta's version of the event stays out too
    (loser,) = [r for r in morning_result.runners_up if r.title.startswith("Volcano")]
    assert "dropped from 'morning'" in (loser.reason or "")
    assert titles(ranked(store, list_name="evening"))[0] == "Volcano erupts near coastal village"
    store.set_pick(morning, dropped, "pin")  # a pin replaces the drop
    assert store.list_picks(morning) == {dropped: "pin"} and store.list_picks(evening) == {}


def test_stories_pin_and_drop_take_a_list_and_default_to_the_default_list(cli, home: Path) -> None:
    setup_newsletter(cli, home)
    cli("collect")
    cli("lists", "add", "other", "--from-email", "o@example.com")
    bridge = next(s["story_id"] for s in json.loads(cli("stories", "list", "--json").stdout) if "Bridge" in s["title"])
    assert json.loads(cli("stories", "drop", str(bridge), "--json").stdout) == {
        "story_id": bridge,
        "list": "main",
        "dropped": True,
    }
    main = json.loads(cli("rank", "--list", "main", "--now", WHEN, "--json").stdout)
    assert [s["title"] for s in main["stories"]] == ["Library extends opening hours"]
    other = json.loads(cli("rank", "--list", "other", "--now", WHEN, "--json").stdout)
    assert len(other["stories"]) == 2
    built = json.loads(cli("build", "--list", "main", "--now", WHEN, "--json").stdout)
    assert [s["title"] for s in built["stories"]] == ["Library extends opening hours"]
    said = cli("stories", "drop", str(bridge), "--off").stderr
    assert f"story {bridge} is back among the candidates for 'main'" in said
    assert json.loads(cli("stories", "pin", str(bridge), "--list", "other", "--json").stdout) == {
        "story_id": bridge,
        "list": "other",
        "pinned": True,
    }
    assert "Pinned story" in cli("stories", "pin", str(bridge)).stderr
    picks = json.loads(cli("stories", "picks", "--list", "other", "--json").stdout)
    assert picks == {"list": "other", "pinned": [bridge], "dropped": []}
    missing = cli("stories", "pin", str(bridge), "--list", "nope", code=1)
    assert "no list named 'nope'" in missing.stderr and "Traceback" not in missing.stderr
    unknown = cli("stories", "drop", "999", code=1)
    assert "no story with id 999" in unknown.stderr


def test_without_the_default_list_a_pin_names_the_fix(cli, home: Path) -> None:
    cli("init")
    failed = cli("stories", "pin", "1", code=1)
    assert "no list named 'main'" in failed.stderr and "digest lists add main" in failed.stderr


def test_keywords_are_each_lists_own(cli, home: Path) -> None:
    setup_newsletter(cli, home)
    cli("collect")
    cli("lists", "add", "other", "--from-email", "o@example.com")
    cli("lists", "keywords", "main", "--block", "bridge", "--boost", "library")
    main = json.loads(cli("rank", "--list", "main", "--now", WHEN, "--json").stdout)
    other = json.loads(cli("rank", "--list", "other", "--now", WHEN, "--json").stdout)
    assert [s["title"] for s in main["stories"]] == ["Library extends opening hours"]
    assert main["stories"][0]["why"]["boosted_by"] == ["library"]
    assert [s["title"] for s in other["stories"]] == ["Bridge reopens after repairs", "Library extends opening hours"]
    assert all("boosted_by" not in s["why"] for s in other["stories"])


def test_the_migration_carries_old_pins_to_every_list(tmp_path: Path) -> None:
    """A story pinned before pins were per list (it was pinned for all of them) stays pinned on each list."""
    path = tmp_path / "old.db"
    db = Database(str(path))
    migrations.apply(db, stop_before="015_list_picks")
    db.execute(
        "INSERT INTO lists(name, from_email, created_at) VALUES ('a', 'a@example.com', ''), ('b', 'b@x.org', '')"
    )
    db.execute(
        "INSERT INTO stories(identity, title, published_at, collected_at, content_hash, pinned)"
        " VALUES ('x', 'Pinned long ago', '2026-11-01T00:00:00+00:00', '2026-11-01T00:00:00+00:00', '', 1),"
        " ('y', 'Never pinned', '2026-11-01T00:00:00+00:00', '2026-11-01T00:00:00+00:00', '', 0)"
    )
    db.close()
    with Store(path) as store:
        pinned = store.scalar("SELECT id FROM stories WHERE identity = 'x'")
        assert store.list_picks(store.list_("a").id) == {pinned: "pin"}
        assert store.list_picks(store.list_("b").id) == {pinned: "pin"}
        assert store.story(pinned).pinned
