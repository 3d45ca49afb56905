"""Source health: failing sources (last error, since when), stale ones, in the library and in digest doctor
(the desk's own view of digest.health is tested in tests/collect/test_source_health.py)."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest

import digest.doctor
from digest import Newsletter
from digest.config import load
from digest.health import source_health
from digest.store import Store
from tests.support import NOW
from tests.support.newsletter import setup_newsletter
from tests.support.rank import source, story


@pytest.fixture(autouse=True)
def no_dns(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(digest.doctor, "dns_txt", lambda name: [])


def _four_sources(store: Store) -> None:
    """'down' failing since 2 days ago, 'quiet' working but with nothing new for 10 days, 'fresh' fine, 'added' new."""
    down, quiet, fresh = source(store, "down"), source(store, "quiet"), source(store, "fresh")
    source(store, "added")
    store.record_fetch(down, now=NOW - timedelta(days=5))
    story(store, down, "Old news from down", hours_ago=100, collected=NOW - timedelta(days=5))
    store.record_fetch(down, error="HTTP 404", now=NOW - timedelta(days=2))
    store.record_fetch(down, error="HTTP 410 Gone", now=NOW - timedelta(days=1))
    story(store, quiet, "Last post before the blog went quiet", hours_ago=240, collected=NOW - timedelta(days=10))
    store.record_fetch(quiet, now=NOW - timedelta(hours=1))
    story(store, fresh, "Today's news", hours_ago=2)
    store.record_fetch(fresh, now=NOW - timedelta(hours=1))


def test_a_failing_source_says_since_its_first_failure_in_a_row(store: Store) -> None:
    _four_sources(store)
    health = source_health(store, NOW, 7 * 24)
    (down,) = health.failing
    assert (down.source, down.failures, down.error) == ("down", 2, "HTTP 410 Gone")
    # since the first failure of the current run, not the latest one; and its last success
    assert down.failing_since == (NOW - timedelta(days=2)).isoformat()
    assert down.since == (NOW - timedelta(days=5)).isoformat()
    detail = down.detail(7 * 24)
    assert f"failing since {(NOW - timedelta(days=2)).isoformat()}" in detail and "HTTP 410 Gone" in detail
    assert "digest sources remove down" in detail
    (quiet,) = health.stale
    assert quiet.source == "quiet" and quiet.since == (NOW - timedelta(days=10)).isoformat()
    assert "nothing new for over 7 day(s) ([collect] stale_days)" in quiet.detail(7 * 24)
    # 0 calls no source stale; a wider threshold lets the quiet blog be
    assert source_health(store, NOW, 0).stale == () and source_health(store, NOW, 11 * 24).stale == ()
    # a success ends the run of failures
    store.record_fetch(store.source("down").id, now=NOW)
    assert store.source("down").failing_since is None and source_health(store, NOW, 7 * 24).failing == ()


def test_newsletter_source_health_uses_collect_stale_days(initialised: Path) -> None:
    with Newsletter.open(initialised) as news:
        _four_sources(news.store)
        assert [s.source for s in news.source_health(now=NOW).stale] == ["quiet"]  # the default: 3 days
    with (initialised / "digest.toml").open("a", encoding="utf-8") as f:
        f.write("\n[collect]\nstale_days = 12\n")
    with Newsletter.open(initialised) as news:
        health = news.source_health(now=NOW)
    assert health.stale == () and [s.source for s in health.failing] == ["down"] and health.sources == 4


def test_doctor_names_failing_and_stale_sources(cli, initialised: Path) -> None:
    with Store(load(initialised).db_path) as store:
        _four_sources(store)
    checks = {c["name"]: c for c in json.loads(cli("doctor", "--json").stdout)}
    assert checks["sources"] == {"name": "sources", "status": "warn", "detail": "4 source(s): 1 failing, 1 stale"}
    down = checks["source down"]
    assert down["status"] == "warn" and down["source"]["error"] == "HTTP 410 Gone"
    assert down["source"]["failing_since"] == (NOW - timedelta(days=2)).isoformat()
    assert checks["source quiet"]["source"]["since"] == (NOW - timedelta(days=10)).isoformat()
    assert "source fresh" not in checks and "source added" not in checks
    text = " ".join(cli("doctor").stdout.split())  # wrapped, never cut
    assert "failing since " + (NOW - timedelta(days=2)).isoformat() in text and "HTTP 410 Gone" in text


def test_doctor_with_no_sources_says_how_to_add_one(cli, initialised: Path) -> None:
    checks = {c["name"]: c for c in json.loads(cli("doctor", "--json").stdout)}
    assert checks["sources"]["status"] == "warn" and "digest sources add URL" in checks["sources"]["detail"]


def test_doctor_json_carries_the_last_runs_exit_code_and_times(cli, home: Path) -> None:
    setup_newsletter(cli, home)
    cli("run", "--now", NOW.isoformat())
    last = {c["name"]: c for c in json.loads(cli("doctor", "--json").stdout)}["last run"]
    run = last["last_run"]
    assert run["exit_code"] == 0 and run["started_at"] <= run["finished_at"]
    assert run["summary"]["now"] == NOW.isoformat()
    health = {c["name"]: c for c in json.loads(cli("doctor", "--json").stdout)}["sources"]
    assert health["status"] == "ok" and health["detail"] == "1 source(s): 0 failing, 0 stale"
