"""Acceptance on the shared corpus: one site in several feed formats yields one entry per item."""

from __future__ import annotations

import re
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path

import pytest

from digest.collect import collect
from digest.config import RankSettings, load
from digest.rank import RankResult, rank
from digest.store import Store

pytestmark = pytest.mark.corpus

DARING = [
    "atom/rsparser__DaringFireball.atom",
    "atom/rsparser__DaringFireball.rss",
    "jsonfeed/rsparser__DaringFireball.json",
]
ALLTHIS = ["atom/rsparser__allthis.atom", "jsonfeed/rsparser__allthis.json"]
EVERYTHING = RankSettings(window_hours=24 * 600, max_stories=1000, per_source=1000, runners_up=0)


def ingest(store: Store, home: Path, corpus: Path, files: list[str]) -> None:
    for f in files:
        store.add_source(Path(f).name, str(corpus / "feeds" / "wellformed" / f))
    report = collect(store, load(home), now=datetime(2026, 11, 24, 7, 0, tzinfo=UTC))
    assert [s.error for s in report.sources] == [None] * len(files)


def norm(title: str) -> str:
    return re.sub(r"\s+", " ", title).strip().lower()


def entries_by_title(result: RankResult) -> dict[str, list[int]]:
    """Each stored title -> the entries (by rank) it appears in, as the entry itself or "also covered by"."""
    found: dict[str, list[int]] = defaultdict(list)
    for i, entry in enumerate(result.picked):
        for title in {norm(entry.title), *(norm(a["title"]) for a in entry.also)}:
            found[title].append(i)
    return found


def test_daring_fireball_in_three_formats_is_one_entry_per_item(store: Store, initialised: Path, corpus: Path) -> None:
    ingest(store, initialised, corpus, DARING)
    result = rank(store, EVERYTHING, datetime(2017, 6, 28, tzinfo=UTC))
    stored = {norm(r[0]) for r in store.conn.execute("SELECT title FROM stories")}
    found = entries_by_title(result)
    assert set(found) == stored  # every stored item is in the digest...
    assert all(len(where) == 1 for where in found.values())  # ...in exactly one entry
    # distinct posts stay apart: only posts about one event (e.g. two on Chris Lattner leaving Tesla) merge
    assert len(stored) - 3 <= len(result.picked) <= len(stored)
    for entry in result.picked:  # one post in several formats is one outlet: no coverage bonus
        if {norm(a["title"]) for a in entry.also} <= {norm(entry.title)}:
            assert entry.why["outlets"] == 1 and entry.why["coverage"] == 0


def test_allthis_in_rss_and_json_is_one_entry_per_item(store: Store, initialised: Path, corpus: Path) -> None:
    ingest(store, initialised, corpus, ALLTHIS)
    result = rank(store, EVERYTHING, datetime(2017, 11, 25, tzinfo=UTC))
    found = entries_by_title(result)
    assert len(found) == 12 and all(len(where) == 1 for where in found.values())
    assert len(result.picked) == 12


def test_far_future_entry_does_not_top_the_ranking(store: Store, initialised: Path, corpus: Path) -> None:
    now = datetime(2026, 11, 24, 7, 0, tzinfo=UTC)
    recent = initialised / "recent.xml"
    recent.write_text(
        '<?xml version="1.0"?><rss version="2.0"><channel><title>Local</title><link>https://local.example/</link>'
        "<item><title>Bridge reopens after repairs</title><link>https://local.example/bridge</link>"
        "<pubDate>Tue, 24 Nov 2026 04:00:00 GMT</pubDate><description>Open again.</description></item>"
        "</channel></rss>",
        encoding="utf-8",
    )
    future = corpus / "feeds" / "edge" / "dates" / "feedvalidator__updated-future.xml"
    report = collect(store, load(initialised), [str(future), str(recent)], now=now)
    assert report.failed == 0 and report.new == 2
    result = rank(store, RankSettings(), now)
    assert [r.title for r in result.picked] == ["Bridge reopens after repairs", "Atom-Powered Robots Run Amok"]
    assert result.picked[1].why["undated"] is True


def test_also_covered_by_never_repeats_an_outlet_and_generic_titles_stay_apart(
    store: Store, initialised: Path, corpus: Path
) -> None:
    tumblr = "rss2/rss2email__tumblr.rss"
    ingest(store, initialised, corpus, [*DARING, *ALLTHIS, tumblr])
    photos = store.scalar("SELECT count(*) FROM stories WHERE title = 'Photo'")
    assert photos >= 4
    wide = RankSettings(window_hours=24 * 365 * 30, max_stories=1000, per_source=1000, runners_up=0)
    result = rank(store, wide, datetime(2026, 11, 24, tzinfo=UTC))
    assert sum(1 for entry in result.picked if entry.title == "Photo") == photos  # one entry per post
    for entry in result.picked:
        outlets = [a["source"] for a in entry.also]
        assert len(outlets) == len(set(outlets)) and entry.source not in outlets, (entry.title, outlets)
    names = {s.display_name for s in store.sources()}
    assert names == {"Daring Fireball", "And now it’s all this", "Sarah's Scribbles"}  # readers see feed titles
