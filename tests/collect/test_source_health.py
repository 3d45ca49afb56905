"""Source health as the editor's desk shows it: failing sources since their last success, and stale ones."""

from __future__ import annotations

from datetime import timedelta

from digest.health import source_health
from digest.models import StoryIn
from digest.store import Store
from tests.support import NOW


def story(title: str, at_hours_ago: float) -> StoryIn:
    return StoryIn(title=title, url=None, summary="", published_at=NOW - timedelta(hours=at_hours_ago))


def test_failing_sources_say_since_when_and_stale_ones_their_newest_story(store: Store) -> None:
    fresh = store.add_source("fresh", "https://fresh.example/feed")
    broken = store.add_source("broken", "https://broken.example/feed")
    quiet = store.add_source("quiet", "https://quiet.example/feed")
    never = store.add_source("never", "https://never.example/feed")  # not fetched yet: neither failing nor stale
    gone = store.add_source("gone", "https://gone.example/feed")  # fetched, no story yet, but only just added
    store.upsert_stories(fresh.id, [("f1", story("Fresh news", 1))], now=NOW - timedelta(hours=1))
    store.upsert_stories(quiet.id, [("q1", story("Old news", 200))], now=NOW - timedelta(hours=150))
    store.upsert_stories(broken.id, [("b1", story("Broken news", 30))], now=NOW - timedelta(hours=30))
    for s in (fresh, quiet, gone):
        store.record_fetch(s.id, now=NOW - timedelta(hours=1))
    store.record_fetch(broken.id, now=NOW - timedelta(hours=30))
    store.record_fetch(broken.id, error="HTTP 503 from broken.example", now=NOW - timedelta(hours=2))
    store.record_fetch(broken.id, error="HTTP 503 from broken.example", now=NOW - timedelta(hours=1))

    health = source_health(store, NOW)
    assert health.sources == 5
    (failing,) = health.failing
    assert (failing.name, failing.failures, failing.error) == ("broken", 2, "HTTP 503 from broken.example")
    assert failing.since is not None and failing.since.startswith((NOW - timedelta(hours=30)).date().isoformat())
    (stale,) = health.stale
    assert stale.name == "quiet" and stale.since == (NOW - timedelta(hours=150)).isoformat()
    later = source_health(store, NOW + timedelta(days=4))  # days on, the source that never brought one is stale too
    assert [(s.name, s.since) for s in later.stale][:1] == [("gone", None)]
    assert never.id not in {s.id for s in store.sources() if s.last_attempt_at}
    assert source_health(store, NOW, stale_hours=24 * 30).stale == ()
