"""Each list its own: a list restricted to some sources (by name) or source tags ranks and builds from them only."""

from __future__ import annotations

import json
from pathlib import Path

from digest.store import Store
from tests.support.rank import ranked, source, story, titles


def _feed(title: str, site: str, items: list[tuple[str, str]]) -> str:
    entries = "".join(
        f"<item><title>{t}</title><link>https://{site}/{i}</link><guid>{site}-{i}</guid>"
        f"<pubDate>Tue, 24 Nov 2026 0{h}:00:00 GMT</pubDate><description>{t}, in full.</description></item>"
        for i, (t, h) in enumerate(items)
    )
    return (
        f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>{title}</title>'
        f"<link>https://{site}/</link>{entries}</channel></rss>"
    )


def _two_desks(cli, home: Path) -> None:
    """Sources 'wire' (tag world, weight 3: it outscores the rest) and 'pitch' (tag sport); one list per desk."""
    (home / "wire.xml").write_text(
        _feed("Wire", "wire.example", [("Summit ends with a trade accord", "5"), ("Floods close mountain pass", "4")])
    )
    (home / "pitch.xml").write_text(
        _feed("Pitch", "pitch.example", [("Harbour FC win the cup final", "3"), ("Marathon route changes", "2")])
    )
    cli("init")
    cli("sources", "add", str(home / "wire.xml"), "--name", "wire", "--tag", "World", "--weight", "3")
    cli("sources", "add", str(home / "pitch.xml"), "--name", "pitch", "--tag", "sport")
    for name, scope in (("world", ["--tag", "world"]), ("sport", ["--source", "pitch"])):
        cli("lists", "add", name, "--from-email", "news@example.com", "--address", "1 Quay St, Harbor City", *scope)
    cli("collect")


NOW = "2026-11-24T07:00:00Z"


def test_two_lists_over_the_same_sources_get_different_editions(cli, home: Path) -> None:
    _two_desks(cli, home)
    for name, source_name in (("world", "wire"), ("sport", "pitch")):
        ranked_doc = json.loads(cli("rank", "--list", name, "--now", NOW, "--json").stdout)
        assert ranked_doc["in_scope"] == 2
        assert {s["source"] for s in ranked_doc["stories"]} == {source_name.capitalize()}
        assert all(r["source"] == source_name.capitalize() for r in ranked_doc["runners_up"])
        built = json.loads(cli("build", "--list", name, "--now", NOW, "--json").stdout)
        assert len(built["stories"]) == 2 and {s["source"] for s in built["stories"]} == {source_name.capitalize()}
    # a list without a scope draws from both, the heavier wire first
    cli("lists", "add", "all", "--from-email", "news@example.com")
    everything = json.loads(cli("rank", "--list", "all", "--now", NOW, "--json").stdout)
    assert "in_scope" not in everything and len(everything["stories"]) == 4
    assert everything["stories"][0]["source"] == "Wire"
    shown = cli("rank", "--list", "sport", "--now", NOW).stderr
    assert "(2 from its sources)" in shown


def test_an_empty_scope_names_the_fix(cli, home: Path) -> None:
    _two_desks(cli, home)
    cli("lists", "add", "arts", "--from-email", "news@example.com", "--tag", "arts")
    advice = json.loads(cli("rank", "--list", "arts", "--now", NOW, "--json").stdout)["advice"]
    assert "no source matches the list's scope (--tag arts)" in advice
    assert "digest sources edit NAME --tag TAG" in advice
    failed = cli("build", "--list", "arts", "--now", NOW, code=1)
    assert "nothing new for 'arts'" in failed.stderr and "digest sources edit NAME --tag TAG" in failed.stderr
    assert "Traceback" not in failed.stderr
    # the scope matches a source whose stories are all out of the window: collect, or widen the list
    cli("sources", "edit", "pitch", "--tag", "arts")
    later = json.loads(cli("rank", "--list", "arts", "--now", "2026-12-09T07:00:00Z", "--json").stdout)
    assert "advice" in later and later["stories"] == []
    cli("lists", "edit", "arts", "--tag", "")
    assert len(json.loads(cli("rank", "--list", "arts", "--now", NOW, "--json").stdout)["stories"]) == 4


def test_a_renamed_source_stays_in_the_lists_that_name_it(cli, home: Path) -> None:
    _two_desks(cli, home)
    cli("sources", "edit", "pitch", "--rename", "pitchside")
    shown = json.loads(cli("lists", "list", "--json").stdout)
    assert next(row for row in shown if row["name"] == "sport")["sources"] == ["pitchside"]
    assert len(json.loads(cli("rank", "--list", "sport", "--now", NOW, "--json").stdout)["stories"]) == 2


def test_an_event_covered_in_and_out_of_scope_is_led_by_the_in_scope_story(store: Store) -> None:
    local, big = source(store, "local"), source(store, "big", 5.0)
    store.add_list("town", from_email="t@example.com", sources='["local"]')
    story(store, big, "Storm floods the harbour district overnight", hours_ago=1, summary="Water rose in the night.")
    mine = story(
        store, local, "Harbour district flooded by overnight storm", hours_ago=3, summary="The storm flooded it."
    )
    story(store, big, "Parliament passes budget", hours_ago=1)
    everyone = ranked(store)
    assert titles(everyone)[0] == "Storm floods the harbour district overnight"
    town = ranked(store, list_name="town")
    assert [r.story_id for r in town.picked] == [mine]  # the budget, only from 'big', is not even a runner-up
    lead = town.picked[0]
    assert lead.why["outlets"] == 2 and lead.why["coverage"] > 0  # coverage counts every outlet
    assert [a["source"] for a in lead.also] == ["big"]  # and "also covered by" may name one outside the list
    assert town.runners_up == [] and town.in_scope == 1


def test_a_list_without_sources_named_or_tagged_takes_every_source(store: Store) -> None:
    a, b = source(store, "a"), source(store, "b")
    story(store, a, "Tram line opens", hours_ago=1)
    story(store, b, "Ferry timetable changes", hours_ago=2)
    store.add_list("all", from_email="t@example.com")
    result = ranked(store, list_name="all")
    assert len(result.picked) == 2 and result.in_scope is None
    assert store.scope_source_ids() is None
    assert store.scope_source_ids(["a"], ["nope"]) == frozenset({a})


def test_digest_run_sends_each_list_its_own_edition(cli, home: Path) -> None:
    _two_desks(cli, home)
    cli("subscribers", "add", "ada@example.com", "--list", "world")
    cli("subscribers", "add", "ada@example.com", "--list", "sport")
    ran = json.loads(cli("run", "--now", NOW, "--json").stdout)
    assert {item["list"]: item["sent"] for item in ran["lists"]} == {"sport": 1, "world": 1}
    for name, source_name in (("world", "Wire"), ("sport", "Pitch")):
        kept = json.loads(cli("build", "--list", name, "--now", NOW, "--json").stdout)  # as sent
        assert {s["source"] for s in kept["stories"]} == {source_name}
