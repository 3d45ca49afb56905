"""Helpers for the send tests: a list with many subscribers and a frozen edition, fast."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from digest import clock
from digest.config import load
from digest.models import Ranked, StoryIn
from digest.store import Store

SECRET = "test-secret-0123456789abcdef"
API_KEY = "SG.test-key"


def email_of(i: int) -> str:
    return f"reader{i:05d}@example.org"


def make_edition(
    store: Store,
    subscribers: int,
    *,
    list_name: str = "main",
    names: dict[int, str] | None = None,
    date: str | None = None,
) -> int:
    """A list with ``subscribers`` confirmed people (reader00001@...) and a frozen three-story edition.

    Its date is today's (UTC, the default timezone) unless ``date`` is given: 'digest send' sends today's edition.
    """
    date = date or clock.now().date().isoformat()
    lst = store.add_list(
        list_name, from_email="news@example.com", from_name="The Digest", address="1 Quay St, Harbor City"
    )
    names = names or {}
    with store.transaction(immediate=True):
        first, created = store.next_subscriber_id(), "2026-11-24T05:00:00Z"
        people = range(first, first + subscribers)
        store.insert_subscribers(
            (sid, email_of(i), names.get(i, f"Reader {i}"), "{}", created) for i, sid in enumerate(people, 1)
        )
        store.insert_subscriptions(lst.id, ((sid, "confirmed") for sid in people), created)
    when = datetime(2026, 11, 24, 6, 0, tzinfo=UTC)
    stories = [
        (
            f"test:{i}",
            StoryIn(
                title=f"Story {i}",
                url=f"https://example.org/s/{i}",
                published_at=when,
                summary=f"Summary {i}.",
                body_text=f"Body {i}.",
            ),
        )
        for i in range(1, 4)
    ]
    store.upsert_stories(None, stories, now=when)
    picked = [
        Ranked(
            story_id=int(store.scalar("SELECT id FROM stories WHERE identity = ?", (ident,))),
            title=s.title,
            url=s.url,
            source=None,
            score=1.0 / n,
            why={"test": 1.0},
        )
        for n, (ident, s) in enumerate(stories, 1)
    ]
    return store.freeze_edition(lst.id, date, "Today's digest", "three stories", "2026-11-24T07:00:00Z", picked)


def claim(
    store: Store, edition: int, count: int, *, after: int = 0, provider: str = "outbox", run_id: str | None = None
) -> int:
    """Write the next ``count`` people owed the edition (ids above ``after``) in flight, as a send does; its id."""
    list_id = store.edition(edition).list_id
    claimed = store.claim_new_batch(edition, provider, list_id, ("confirmed",), after, count, run_id)
    assert claimed is not None and len(claimed[1]) == count
    return claimed[0]


def ledger(store: Store, edition: int, status: str | None = None) -> list[dict[str, Any]]:
    """The edition's rows in the ``sends`` table (optionally of one status), oldest first."""
    sql = "SELECT * FROM sends WHERE edition_id = ?" + (" AND status = ?" if status else "") + " ORDER BY id"
    return store.rows(sql, (edition, status) if status else (edition,))


def open_store(home: Path) -> Store:
    return Store(load(home).db_path)


def sendgrid_env(url: str, **extra: str) -> dict[str, str]:
    env = {
        "SENDGRID_API_KEY": API_KEY,
        "DIGEST_SECRET": SECRET,
        "DIGEST_SEND_PROVIDER": "sendgrid",
        "DIGEST_SENDGRID_HOST": url,
        "DIGEST_SENDGRID_TIMEOUT": "5",
        "DIGEST_SENDGRID_BACKOFF": "0.01",
        "DIGEST_SENDGRID_MAX_WAIT": "2",
    }
    env.update(extra)
    return env
