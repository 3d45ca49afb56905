"""Helpers for the ranking tests: hand-made stories in a real store."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from digest.config import RankSettings
from digest.models import StoryIn
from digest.rank import RankResult, rank
from digest.store import Store
from tests.support import NOW

LEAD = "{}."


def source(store: Store, name: str, weight: float = 1.0, location: str | None = None) -> int:
    """A source; its location is never fetched unless a test collects (then give a local ``location``)."""
    return int(store.add_source(name, location or f"https://{name}.example/feed", weight=weight).id)


def story(
    store: Store,
    source_id: int | None,
    title: str,
    *,
    hours_ago: float = 1.0,
    url: str | None = None,
    summary: str | None = None,
    comments: int | None = None,
    engagement: dict[str, int] | None = None,
    collected: datetime | None = None,
) -> int:
    """Store one story ``hours_ago`` before NOW; returns its id.

    It is collected at ``collected`` (default: five minutes after NOW, so that its date is trusted;
    a story collected at its own publication time looks like one whose date collection clamped).
    """
    slug = "-".join(title.lower().split())[:60]
    item = StoryIn(
        title=title,
        url=url or f"https://{source_id}.example/{slug}",
        guid=f"{source_id}:{slug}",
        published_at=NOW - timedelta(hours=hours_ago),
        summary=summary or LEAD.format(title),
        comments=comments,
        engagement=engagement or {},
    )
    identity = f"test:{source_id}:{slug}:{hours_ago}"
    store.upsert_stories(source_id, [(identity, item)], collected or NOW + timedelta(minutes=5))
    return int(store.scalar("SELECT id FROM stories WHERE identity = ?", (identity,)))


def settings(**kw: Any) -> RankSettings:
    return RankSettings(**kw)


def ranked(store: Store, *, now: datetime = NOW, list_name: str | None = None, **kw: Any) -> RankResult:
    list_row = store.list_(list_name) if list_name else None
    return rank(store, settings(**kw), now, list_row)


def titles(result: RankResult) -> list[str]:
    return [r.title for r in result.picked]
