"""Retention: an edition past [store] retention_days keeps its counts and the consent evidence, not its
per-reader ledger and delivery events; it is never sent again; doctor says what retention would free."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from digest.config import load
from digest.doctor import run_checks
from digest.store import Store
from tests.support import NOW

FEED = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Town</title><link>https://town.example/</link>
<item><title>Market moves to the square</title><link>https://town.example/market</link>
<guid>market-1</guid><pubDate>{date}</pubDate><description>From Monday.</description></item>
</channel></rss>
"""
OLD = NOW - timedelta(days=100)


def _event(store: Store, key: str, event: str, edition: int, reader: int) -> None:
    with store.transaction():
        store.record_event(key, event, email=None, edition_id=edition, subscriber_id=reader, occurred_at=None, data={})


def _store_check(store: Store, home: Path) -> str:
    return next(c.detail for c in run_checks(store, load(home), resolver=lambda _d: []) if c.name == "store")


def _rows(store: Store, table: str, edition: int) -> int:
    return int(store.scalar(f"SELECT count(*) FROM {table} WHERE edition_id = ?", (edition,)))


def test_an_old_edition_is_folded_into_its_counts_at_the_next_run(cli, initialised: Path) -> None:
    feed = initialised / "town.xml"
    feed.write_text(FEED.format(date=OLD.strftime("%a, %d %b %Y %H:%M:%S GMT")), encoding="utf-8")
    cli("sources", "add", str(feed), "--name", "town")
    cli("lists", "add", "main", "--from-email", "news@example.com", "--address", "1 Quay St, Harbor City")
    for i in range(3):
        cli("subscribers", "add", f"reader{i}@example.com", "--list", "main")
    cli("run", "--provider", "outbox", "--now", OLD.isoformat())
    store = Store(load(initialised).db_path)
    try:
        (old,) = [e.edition for e in store.edition_stats()]
        readers = [
            int(r[0]) for r in store.conn.execute("SELECT subscriber_id FROM sends WHERE edition_id = ?", (old,))
        ]
        for n, reader in enumerate(readers):
            _event(store, f"d{n}", "delivered", old, reader)
        _event(store, "o0", "open", old, readers[0])
        _event(store, "p0", "processed", old, readers[0])  # not shown by stats: simply removed
        _event(store, "u1", "unsubscribe", old, readers[1])
        before = store.edition_stats(old)[0]
        assert (before.sent, before.delivered, before.opened, before.unsubscribed) == (3, 3, 1, 1)

        detail = next(
            c.detail for c in run_checks(store, load(initialised), resolver=lambda _d: []) if c.name == "store"
        )
        assert " MB" in detail and "retention (90 days) would fold 1 edition(s)" in detail, detail
        assert "freeing 3 ledger and 5 event rows" in detail, detail

        feed.write_text(FEED.format(date=NOW.strftime("%a, %d %b %Y %H:%M:%S GMT")).replace("market", "fair"))
        said = cli("run", "--provider", "outbox", "--now", NOW.isoformat()).stderr
        assert "retention: 1 edition(s) before" in said and "(3 ledger and 5 event rows removed)" in said, said

        assert _rows(store, "sends", old) == 0 and _rows(store, "send_batches", old) == 0
        kept = [r[0] for r in store.conn.execute("SELECT event FROM events WHERE edition_id = ?", (old,))]
        assert kept == ["unsubscribe"]  # consent evidence stays, with whom and when
        assert store.edition_stats(old)[0] == before  # stats show the folded edition as before
        new = max(e.edition for e in store.edition_stats())
        assert _rows(store, "sends", new) == 3  # the recent edition keeps its ledger

        refused = cli("send", "--list", "main", "--date", OLD.date().isoformat(), code=None)
        assert refused.exit_code != 0 and "past [store] retention_days" in refused.stderr
        assert _rows(store, "sends", old) == 0  # nobody was sent it a second time

        detail = next(
            c.detail for c in run_checks(store, load(initialised), resolver=lambda _d: []) if c.name == "store"
        )
        assert "has nothing to fold yet" in detail
    finally:
        store.close()


def test_retention_days_zero_keeps_everything(cli, initialised: Path, monkeypatch) -> None:  # noqa: ANN001
    monkeypatch.setenv("DIGEST_STORE_RETENTION_DAYS", "0")
    feed = initialised / "town.xml"
    feed.write_text(FEED.format(date=OLD.strftime("%a, %d %b %Y %H:%M:%S GMT")), encoding="utf-8")
    cli("sources", "add", str(feed), "--name", "town")
    cli("lists", "add", "main", "--from-email", "news@example.com", "--address", "1 Quay St, Harbor City")
    cli("subscribers", "add", "reader@example.com", "--list", "main")
    cli("run", "--provider", "outbox", "--now", OLD.isoformat())
    said = cli("run", "--provider", "outbox", "--now", NOW.isoformat()).stderr
    assert "retention:" not in said
    store = Store(load(initialised).db_path)
    try:
        assert int(store.scalar("SELECT count(*) FROM sends")) == 1
        detail = next(
            c.detail for c in run_checks(store, load(initialised), resolver=lambda _d: []) if c.name == "store"
        )
        assert "retention off" in detail
    finally:
        store.close()
