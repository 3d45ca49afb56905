"""Each ranking rule on hand-made stories in a real store: scoring, clustering, diversity, history."""

from __future__ import annotations

import math
from datetime import timedelta

import pytest

from digest.store import Store
from tests.support import NOW
from tests.support.rank import ranked, source, story, titles

# --- scoring --------------------------------------------------------------------------------------------


def test_recency_halves_every_half_life(store: Store) -> None:
    s = source(store, "wire")
    story(store, s, "Old council budget vote", hours_ago=12)
    story(store, s, "Fresh harbour crane collapse", hours_ago=0)
    result = ranked(store, half_life_hours=12)
    assert titles(result) == ["Fresh harbour crane collapse", "Old council budget vote"]
    fresh, old = result.picked
    assert fresh.why["recency"] == pytest.approx(1.0) and old.why["recency"] == pytest.approx(0.5)
    assert old.why["age_hours"] == pytest.approx(12)
    assert ranked(store, half_life_hours=6).picked[1].why["recency"] == pytest.approx(0.25)


def test_source_weight_multiplies_and_can_be_switched_off(store: Store) -> None:
    light, heavy = source(store, "blog", 1.0), source(store, "paper", 2.0)
    story(store, light, "Blog notes on tram timetable", hours_ago=1)
    story(store, heavy, "Paper report on river flooding", hours_ago=6)
    result = ranked(store)
    assert titles(result)[0] == "Paper report on river flooding"
    assert result.picked[0].why["source_factor"] == 2.0
    assert result.picked[0].score == pytest.approx(2.0 * 0.5 ** (6 / 24))
    assert titles(ranked(store, source_weight=0.0))[0] == "Blog notes on tram timetable"


def test_engagement_figures_count_when_present(store: Store) -> None:
    s = source(store, "forum")
    story(store, s, "Quiet thread about gardening tools", hours_ago=2)
    story(store, s, "Busy thread about city marathon route", hours_ago=2, comments=40, engagement={"points": 200})
    story(store, s, "Middling thread about museum hours", hours_ago=2, comments=3)
    result = ranked(store, engagement_weight=0.5)
    assert titles(result) == [
        "Busy thread about city marathon route",
        "Middling thread about museum hours",
        "Quiet thread about gardening tools",
    ]
    busy, middling, quiet = result.picked
    assert busy.why["engagement"] == pytest.approx(0.5)  # the window's most engaged story gets the full weight
    assert middling.why["engagement"] == pytest.approx(0.5 * math.log1p(3) / math.log1p(240))
    assert busy.why["engagement_figures"] == {"comments": 40, "points": 200}
    assert quiet.why["engagement"] == 0.0 and quiet.why["engagement_figures"] == {}
    assert titles(ranked(store, engagement_weight=0.0))[0] == "Quiet thread about gardening tools"  # tie: lowest id


def test_coverage_by_several_outlets_is_one_entry_that_ranks_higher(store: Store) -> None:
    a, b, c = source(store, "alpha"), source(store, "beta"), source(store, "gamma")
    story(store, a, "Lone fresh story on bakery prices", hours_ago=0.5)
    first = story(
        store,
        a,
        "Volcano erupts near coastal village, thousands evacuated",
        hours_ago=3,
        summary="Lava reached the outskirts of the village overnight as thousands fled the coast.",
    )
    story(
        store,
        b,
        "Thousands evacuated as volcano erupts near coastal village",
        hours_ago=2,
        summary="Residents of the coastal village were moved to shelters inland after the eruption.",
    )
    story(
        store,
        c,
        "Volcano near coastal village erupts; thousands evacuated",
        hours_ago=4,
        summary="An eruption forced thousands to leave the coastal village, officials said.",
    )
    result = ranked(store, coverage_weight=0.5)
    assert len(result.picked) == 2
    top = result.picked[0]
    assert top.title == "Thousands evacuated as volcano erupts near coastal village"  # the freshest version
    assert top.why["outlets"] == 3 and top.why["coverage"] == pytest.approx(0.5 * math.log2(3))
    assert sorted(a["source"] for a in top.also) == ["alpha", "gamma"]
    assert first in {a["story_id"] for a in top.also}
    assert set(top.also[0]) == {"story_id", "title", "url", "source"}
    assert ranked(store, coverage_weight=0.0).picked[0].title == "Lone fresh story on bakery prices"


def test_different_stories_with_similar_titles_stay_apart(store: Store) -> None:
    a, b = source(store, "alpha"), source(store, "beta")
    story(store, a, "Apple releases iOS 17.1 update", summary="The update fixes the battery drain bug.")
    story(store, b, "Apple releases iOS 17.2 update", summary="Journaling arrives with this release in December.")
    story(store, b, "Council approves new cycle lanes", summary="Cycle lanes will be painted along the ring road.")
    story(store, a, "Council rejects new cycle lanes", summary="Shops objected to losing parking on the high street.")
    assert len(ranked(store).picked) == 4


def test_exact_url_matches_always_merge(store: Store) -> None:
    a, b = source(store, "alpha"), source(store, "beta")
    one = story(store, a, "Totally different headline here", url="https://x.example/one")
    two = story(store, b, "Nothing alike in these words at all", url="https://x.example/two")
    store.conn.execute("UPDATE stories SET url = 'https://x.example/same' WHERE id IN (?, ?)", (one, two))
    [entry] = ranked(store).picked
    assert {entry.story_id, entry.also[0]["story_id"]} == {one, two}


def test_boost_and_block_per_list_with_global_defaults(store: Store) -> None:
    s = source(store, "wire")
    story(store, s, "Fresh story on parking fines", hours_ago=0)
    story(store, s, "Older story on the Tram Strike", hours_ago=20)
    story(store, s, "Fresh story on crypto scams", hours_ago=0.5)
    store.add_list("transport", from_email="t@example.com", boost=["tram strike"], block=["crypto"])
    store.add_list("plain", from_email="p@example.com")
    result = ranked(store, list_name="transport")
    assert titles(result)[0] == "Older story on the Tram Strike"
    assert result.picked[0].why["boosted_by"] == ["tram strike"] and result.picked[0].why["keywords"] == 1.0
    assert "Fresh story on crypto scams" not in titles(result)
    [lost] = [r for r in result.runners_up if r.title == "Fresh story on crypto scams"]
    assert lost.reason == "blocked by 'crypto'"
    # a list without its own words uses [rank] boost/block
    result = ranked(store, list_name="plain", boost=["parking"], block=["tram"])
    assert titles(result) == ["Fresh story on parking fines", "Fresh story on crypto scams"]
    assert ranked(store, list_name="plain", block=["tram strikes"]).runners_up == []  # whole words only


def test_pinned_story_comes_first_even_outside_the_window(store: Store) -> None:
    s = source(store, "wire")
    story(store, s, "Fresh story on school meals", hours_ago=0)
    old = story(store, s, "Week old explainer on the election", hours_ago=24 * 7)
    assert "Week old explainer on the election" not in titles(ranked(store))
    store.add_list("main", from_email="m@example.com")
    store.set_pick(store.list_("main").id, old, "pin")
    result = ranked(store, list_name="main", pin_boost=100.0)
    assert result.picked[0].story_id == old and result.picked[0].why["pinned"] == 100.0


def test_far_future_dates_do_not_top_the_ranking(store: Store) -> None:
    s = source(store, "wire")
    story(store, s, "Story published an hour ago", hours_ago=1)
    # a future date straight in the store (not through collect): not a candidate as of NOW
    story(store, s, "Robots run amok in 2103", hours_ago=-(24 * 365 * 77))
    # what collect makes of a far-future date: clamped to the collection time, so it cannot be trusted
    clamped = story(store, s, "Clamped far future item", hours_ago=0, collected=NOW)
    result = ranked(store, undated_age_hours=24)
    assert titles(result) == ["Story published an hour ago", "Clamped far future item"]
    assert result.picked[1].story_id == clamped and result.picked[1].why["undated"] is True
    assert result.picked[1].why["age_hours"] == 24


# --- diversity ------------------------------------------------------------------------------------------


def test_per_source_cap_and_max_stories(store: Store) -> None:
    big, small = source(store, "big"), source(store, "small")
    for i, title in enumerate(
        [
            "Harbour dredging begins",
            "Airport runway resurfaced",
            "Stadium roof leaks again",
            "Library wins architecture prize",
            "Hospital opens maternity wing",
        ]
    ):
        story(store, big, title, hours_ago=i * 0.1)
    story(store, small, "Small outlet on the zoo reopening", hours_ago=10)
    result = ranked(store, per_source=2, max_stories=10)
    assert [r.source for r in result.picked] == ["big", "big", "small"]
    assert {r.reason for r in result.runners_up} == {"already 2 stories from big"}
    result = ranked(store, per_source=10, max_stories=3)
    assert len(result.picked) == 3
    assert {r.reason for r in result.runners_up} == {"the edition is full (3 stories)"}


def test_min_score_is_the_bar(store: Store) -> None:
    s = source(store, "wire")
    story(store, s, "Fresh story on the ferry timetable", hours_ago=0)
    story(store, s, "Two day old story on the bridge tolls", hours_ago=48)
    result = ranked(store, min_score=0.5)
    assert titles(result) == ["Fresh story on the ferry timetable"]
    assert result.runners_up[0].reason.startswith("score 0.2500 is below min_score 0.5")


# --- determinism ----------------------------------------------------------------------------------------


def test_same_store_and_now_give_the_same_result_and_ties_break_by_id(store: Store) -> None:
    sources = [source(store, f"s{i}") for i in range(4)]
    topics = [
        "ferry",
        "school",
        "bakery",
        "museum",
        "stadium",
        "harbour",
        "library",
        "airport",
        "market",
        "theatre",
        "bridge",
        "tunnel",
    ]
    ids = [story(store, sources[i % 4], f"{topic.title()} news", hours_ago=3) for i, topic in enumerate(topics)]
    first = ranked(store, per_source=10).as_dict()
    assert first == ranked(store, per_source=10).as_dict()
    assert [s["story_id"] for s in first["stories"]] == ids[:10]
    assert [r["story_id"] for r in first["runners_up"]] == ids[10:]


def test_window_excludes_old_stories_and_now_moves_it(store: Store) -> None:
    s = source(store, "wire")
    story(store, s, "Four day old story on the tunnel", hours_ago=96)
    assert ranked(store).picked == []
    assert titles(ranked(store, now=NOW - timedelta(hours=48))) == ["Four day old story on the tunnel"]


def test_a_feeds_boilerplate_summary_does_not_merge_its_stories(store: Store) -> None:
    s = source(store, "blog")
    boilerplate = "Read the full story on our website, and follow us on social media for more local news."
    for i, title in enumerate(
        [
            "Harbour dredging begins",
            "Airport runway resurfaced",
            "Stadium roof leaks again",
            "Library wins architecture prize",
            "Hospital opens maternity wing",
            "Market hall reopens",
        ]
    ):
        story(store, s, title, hours_ago=i, summary=boilerplate)
    assert len(ranked(store, per_source=10).picked) == 6


def test_one_post_in_two_feed_formats_with_different_links_is_one_outlet(store: Store) -> None:
    atom, json_feed = source(store, "site.atom"), source(store, "site.json")
    text = "Jon Darke: how much bandwidth does my phone use to keep my apps updated? One Friday I turned it off."
    story(store, atom, "Bad App Citizens", hours_ago=2, url="https://elsewhere.example/bad-apps", summary=text)
    story(store, json_feed, "Bad App Citizens", hours_ago=2, url="https://site.example/linked/bad-apps", summary=text)
    story(store, json_feed, "Good App Citizens Are Rare", hours_ago=2, summary="A different post entirely.")
    result = ranked(store)
    assert len(result.picked) == 2  # the two versions are one entry
    [entry] = [r for r in result.picked if r.title == "Bad App Citizens"]
    assert entry.why["outlets"] == 1 and entry.why["coverage"] == 0.0
    assert entry.also == []  # the same post in the site's other feed is not another outlet covering it


def test_paraphrased_headlines_with_agreeing_leads_are_one_event(store: Store) -> None:
    a, b = source(store, "alpha"), source(store, "beta")
    story(
        store,
        a,
        "Heat wave pushes harbor water temperatures to a record high",
        summary="Sea surface readings off Pier 9 hit a record as the heat wave along the coast pushed temperatures up.",
    )
    story(
        store,
        b,
        "Heat wave pushes coastal ocean temperatures to a record high",
        summary="Sea surface readings along the coast broke records at a dozen stations this week.",
    )
    story(
        store,
        b,
        "City council approves new bike lanes downtown",
        summary="The council voted 7-2 to build protected bike lanes on Front Street.",
    )
    story(
        store,
        a,
        "Council votes yes on downtown bike lane plan",
        summary="The council backed protected bike lanes for Front Street and Mill Avenue.",
    )
    picked = ranked(store).picked
    assert len(picked) == 2 and all(len(entry.also) == 1 for entry in picked)


def test_headlines_with_different_numbers_stay_apart(store: Store) -> None:
    a, b = source(store, "alpha"), source(store, "beta")
    story(store, a, "Bitcoin climbs past 50,000 dollars for the first time", summary="The price rose overnight.")
    story(store, b, "Bitcoin climbs past 60,000 dollars for the first time", summary="The price rose overnight.")
    assert len(ranked(store).picked) == 2


def site(store: Store, source_id: int, host: str) -> None:
    store.record_fetch(source_id, site=host, feed_title=host.split(".")[0].title())


def test_one_site_in_several_feed_formats_is_one_outlet_never_listed_twice(store: Store) -> None:
    atom, rss, json_feed, other = (source(store, n) for n in ("df-atom", "df-rss", "df-json", "verge"))
    for s in (atom, rss, json_feed):
        site(store, s, "daringfireball.net")
    site(store, other, "theverge.com")
    lead = "The committee voted to approve the new wireless charging standard for every phone sold in Europe."
    story(store, atom, "EU approves one charger rule for phones", hours_ago=2, summary=lead)
    story(store, rss, "EU approves one charger rule for phones", hours_ago=2.5, summary=lead)
    story(store, json_feed, "EU approves one charger rule for phones", hours_ago=3, summary=lead)
    story(store, other, "EU approves one-charger rule for all phones", hours_ago=1, summary=lead)
    [entry] = ranked(store).picked
    assert entry.why["outlets"] == 2
    assert [a["source"] for a in entry.also] == ["Daringfireball"]  # once, though three feeds carried it


def test_identical_generic_titles_from_one_source_stay_apart(store: Store) -> None:
    tumblr, other = source(store, "tumblr"), source(store, "other")
    for i in range(4):
        story(store, tumblr, "Photo", hours_ago=1 + i, url=f"https://x.tumblr.example/post/{i}", summary="")
    story(store, other, "Photo", hours_ago=1, url="https://other.example/photo", summary="")
    result = ranked(store, per_source=10)
    assert len(result.picked) == 5 and all(r.also == [] for r in result.picked)
