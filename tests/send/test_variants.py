"""Readers' choices change what an edition holds: a variant per distinct (topics, frequency), rendered once each,
sent once per reader and day (issue 12)."""

from __future__ import annotations

import email
import html
import re
from collections.abc import Callable, Iterator
from email import policy
from pathlib import Path

import pytest

import digest.render.mjml as mjml_module
from digest import consent
from digest.config import load
from digest.store import Store
from tests.conftest import Cli

MONDAY = "2026-11-30"


@pytest.fixture
def compiles(monkeypatch: pytest.MonkeyPatch) -> Callable[[], int]:
    """How many times MJML was compiled since the last call (every compile goes through ``mjml2html``)."""
    count = [0]
    real = mjml_module.mjml2html

    def counting(*args: object, **kwargs: object) -> str:
        count[0] += 1
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(mjml_module, "mjml2html", counting)

    def taken() -> int:
        n, count[0] = count[0], 0
        return n

    return taken


@pytest.fixture
def example(home: Path, cli: Cli) -> Iterator[Path]:
    """``init --example``: four tagged sources (local/civic, tech, science, tech/briefs), list main, five readers."""
    cli("init", "--example")
    cli("collect")
    yield home


def choose(home: Path, who: str, topics: list[str] | None = None, frequency: str | None = None) -> None:
    with Store(load(home).db_path) as store:
        person = store.subscriber(who)
        assert person is not None
        consent.set_preferences(store, person, store.list_("main"), topics=topics, frequency=frequency)


def source_tags(home: Path) -> dict[str, set[str]]:
    """The display name readers see of each source -> its tags."""
    with Store(load(home).db_path) as store:
        return {s.title or s.feed_title or s.name: set(s.tags) for s in store.sources()}


def received(home: Path, edition_id: int) -> dict[str, str]:
    """address -> the HTML of the copy they received."""
    out = {}
    for path in sorted((home / "outbox" / f"edition-{edition_id}").glob("*.eml")):
        msg = email.message_from_bytes(path.read_bytes(), policy=policy.default)
        out[str(msg["To"]).split("<")[-1].rstrip(">")] = html_of(path.read_bytes())
    return out


def story_sources(home: Path, edition_id: int, who: str) -> set[str]:
    """The sources of the stories the copy of ``who`` held, by the ledger's variant (or the edition)."""
    with Store(load(home).db_path) as store:
        person = store.subscriber(who)
        assert person is not None
        variant_id = store.scalar(
            "SELECT variant_id FROM sends WHERE edition_id = ? AND subscriber_id = ?", (edition_id, person.id)
        )
        stories = store.variant_stories(variant_id) if variant_id else store.edition_stories(edition_id)
        return {s.source or "" for s in stories}


def last_edition(home: Path) -> int:
    with Store(load(home).db_path) as store:
        return int(store.scalar("SELECT max(id) FROM editions"))


def test_readers_with_different_topics_get_different_stories_rendered_once_per_variant(
    example: Path, cli: Cli, compiles: Callable[[], int]
) -> None:
    home = example
    choose(home, "ada@example.com", ["tech"])
    choose(home, "grace@example.com", ["tech"])
    choose(home, "alan@example.org", ["science"])
    compiles()
    cli("run")
    assert compiles() == 3  # the whole edition, tech, science: never once per reader
    edition = last_edition(home)
    tags = source_tags(home)
    for who, topic in (("ada@example.com", "tech"), ("grace@example.com", "tech"), ("alan@example.org", "science")):
        sources = story_sources(home, edition, who)
        assert sources and all(topic in tags[s] for s in sources), (who, sources)
    assert story_sources(home, edition, "ada@example.com") != story_sources(home, edition, "alan@example.org")
    assert len(story_sources(home, edition, "linus@example.com")) > 1  # no topics: the whole list
    copies = received(home, edition)
    assert len(copies) == 5  # one copy each
    assert copies["ada@example.com"] != copies["alan@example.org"]

    cli("run")  # a re-run sends nobody anything and renders nothing
    assert compiles() == 0
    with Store(load(home).db_path) as store:
        assert store.send_counts(edition).sent == 5
        assert store.scalar("SELECT count(*) FROM variants WHERE edition_id = ?", (edition,)) == 2


def test_a_change_of_topics_after_the_send_never_sends_a_second_variant_and_applies_next_time(
    example: Path, cli: Cli
) -> None:
    home = example
    cli("run")
    edition = last_edition(home)
    choose(home, "ada@example.com", ["science"])
    cli("run")  # same day: Ada already had her copy of the day
    cli("send", "--list", "main", "--provider", "outbox")
    with Store(load(home).db_path) as store:
        assert store.send_counts(edition).sent == 5
        assert store.scalar("SELECT count(*) FROM sends WHERE edition_id = ?", (edition,)) == 5
        assert store.variants(edition) == []
    cli("build", "--list", "main", "--date", "2026-11-25")
    cli("send", "--list", "main", "--date", "2026-11-25", "--provider", "outbox")
    nxt = last_edition(home)
    assert nxt != edition
    tags = source_tags(home)
    sources = story_sources(home, nxt, "ada@example.com")
    assert sources and all("science" in tags[s] for s in sources)


def test_a_topic_with_no_stories_today_sends_its_readers_nothing_and_says_so(example: Path, cli: Cli) -> None:
    home = example
    garden = home / "garden.xml"  # a tagged feed with nothing in it today
    garden.write_text('<rss version="2.0"><channel><title>Garden</title></channel></rss>', encoding="utf-8")
    with Store(load(home).db_path) as store:
        store.add_source("garden", str(garden), tags=["gardening"])
    choose(home, "ada@example.com", ["gardening"])
    choose(home, "grace@example.com", ["no-such-topic"])  # an import's own tag: no choice, the whole list
    ran = cli("run")
    out = ran.stdout + ran.stderr
    assert re.search(r"daily readers of gardening: no stories today, so 1 reader\(s\) get nothing", out), out
    edition = last_edition(home)
    with Store(load(home).db_path) as store:
        assert store.send_counts(edition).sent == 4
        assert store.variants(edition) == []
    assert len(story_sources(home, edition, "grace@example.com")) > 1


def test_weekly_readers_get_the_weeks_best_on_the_weekly_day_only_and_nothing_twice(example: Path, cli: Cli) -> None:
    home = example
    choose(home, "ada@example.com", frequency="weekly")
    choose(home, "grace@example.com", ["tech"], frequency="weekly")
    cli("run")  # Tuesday: weekly readers wait
    tuesday = last_edition(home)
    with Store(load(home).db_path) as store:
        assert store.send_counts(tuesday).sent == 3
    json_out = cli("send", "--list", "main", "--json").stdout
    assert '"weekly": 2' in json_out
    cli("build", "--list", "main", "--date", MONDAY)
    cli("send", "--list", "main", "--date", MONDAY, "--provider", "outbox")
    monday = last_edition(home)
    tags = source_tags(home)
    with Store(load(home).db_path) as store:
        assert store.send_counts(monday).sent == 5
        (weekly_all,) = [v for v in store.variants(monday) if not v.topics]
        (weekly_tech,) = [v for v in store.variants(monday) if v.topics == ("tech",)]
        week = {s.story_id for day in (tuesday, monday) for s in store.edition_stories(day)}
        picked = [s.story_id for s in store.variant_stories(weekly_all.id)]
        assert picked and set(picked) <= week  # from the daily history
        tech = store.variant_stories(weekly_tech.id)
        assert tech and all("tech" in tags[s.source or ""] for s in tech)


def test_a_failed_copy_is_sent_again_as_the_variant_its_ledger_row_names(example: Path, cli: Cli) -> None:
    home = example
    choose(home, "ada@example.com", ["tech"])
    cli("run")
    edition = last_edition(home)
    with Store(load(home).db_path) as store:
        ada = store.subscriber("ada@example.com")
        assert ada is not None
        variant = store.scalar("SELECT variant_id FROM sends WHERE subscriber_id = ?", (ada.id,))
        assert variant is not None
        store.conn.execute("UPDATE sends SET status = 'failed' WHERE subscriber_id = ?", (ada.id,))
    (copy,) = (home / "outbox" / f"edition-{edition}").glob("*ada*.eml")
    first = copy.read_bytes()
    copy.unlink()
    choose(home, "ada@example.com", ["science"])  # a change of mind applies from the next edition, not to a retry
    cli("send", "--list", "main", "--provider", "outbox")
    with Store(load(home).db_path) as store:
        assert store.send_counts(edition).sent == 5
        assert store.scalar("SELECT variant_id FROM sends WHERE subscriber_id = ?", (ada.id,)) == variant
        titles = [s.title for s in store.variant_stories(variant)]
    (again,) = (home / "outbox" / f"edition-{edition}").glob("*ada*.eml")
    assert html_of(again.read_bytes()) == html_of(first)  # the same variant's copy
    assert titles and all(t in html_of(first) for t in titles)


def html_of(raw: bytes) -> str:
    msg = email.message_from_bytes(raw, policy=policy.default)
    return html.unescape(str(msg.get_body(("html",)).get_content()))


def test_on_a_weekly_list_weekly_readers_get_each_edition_like_everyone(example: Path, cli: Cli) -> None:
    home = example
    cli("lists", "edit", "main", "--weekday", "tuesday")  # the pinned now is a Tuesday
    choose(home, "ada@example.com", frequency="weekly")
    cli("run")
    edition = last_edition(home)
    with Store(load(home).db_path) as store:
        assert store.send_counts(edition).sent == 5
        assert store.variants(edition) == []


def test_a_story_the_editor_dropped_is_in_no_variant(example: Path, cli: Cli) -> None:
    from digest import Newsletter

    home = example
    choose(home, "ada@example.com", ["tech"])
    cli("build", "--list", "main")
    edition = last_edition(home)
    with Newsletter.open(home) as news:
        tags = {s.id: set(s.tags) for s in news.store.sources()}
        tech = [
            s.story_id
            for s in news.store.edition_stories(edition)
            if "tech" in tags[news.store.story(s.story_id).source_id or 0]
        ]
        assert tech
        news.drop_story(edition, tech[0])
    cli("send", "--list", "main", "--provider", "outbox")
    with Store(load(home).db_path) as store:
        (variant,) = store.variants(edition)
        held = {s.story_id for s in store.variant_stories(variant.id)}
    assert held and tech[0] not in held and set(tech[1:]) & held


def test_a_tracked_link_in_a_variant_redirects_to_its_story(
    example: Path, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    from urllib.parse import urlsplit

    import lxml.html
    from starlette.testclient import TestClient

    from digest.web import create_app

    home = example
    monkeypatch.setenv("DIGEST_TRACK_CLICKS", "true")
    choose(home, "ada@example.com", ["tech"])
    cli("run")
    edition = last_edition(home)
    with Store(load(home).db_path) as store:
        (variant,) = store.variants(edition)
        only_here = [
            s
            for s in store.variant_stories(variant.id)
            if s.story_id not in {e.story_id for e in store.edition_stories(edition)}
        ]
    assert only_here  # a story the whole edition does not hold
    copy = received(home, edition)["ada@example.com"]
    links = [str(a) for a in lxml.html.fromstring(copy).xpath("//h2/a/@href | //h3/a/@href")]
    with TestClient(create_app(load(home))) as c:
        targets = [c.get(urlsplit(link).path, follow_redirects=False).headers.get("location") for link in links]
    assert only_here[0].url in targets


def test_readers_mornings_and_topics_together_each_reader_gets_their_variant_at_their_own_time(
    example: Path, cli: Cli
) -> None:
    from datetime import UTC, datetime

    from digest import clock, pipeline

    home = example
    cli("lists", "edit", "main", "--send-at", "07:00", "--timezone", "UTC")
    choose(home, "ada@example.com", ["tech"])
    choose(home, "grace@example.com", ["tech"])
    with Store(load(home).db_path) as store:
        grace = store.subscriber("grace@example.com")
        assert grace is not None
        attributes = grace.attributes | {"timezone": "America/Los_Angeles"}  # her 07:00 is 15:00 UTC
        store.set_subscriber(grace.id, name=grace.name, attributes=attributes)
    config = load(home)
    with Store(config.db_path) as store:
        for hour in (7, 8, 15, 16):
            at = datetime(2026, 11, 24, hour, tzinfo=UTC)
            with clock.pinned(at):
                report = pipeline.run(store, config, now=at)
            assert report.exit_code == 0, report.as_dict()
        rows = store.rows(
            "SELECT s.email, s.edition_id, s.variant_id, s.created_at FROM sends s ORDER BY s.created_at, s.email"
        )
    got = {r["email"]: r for r in rows}
    assert len(rows) == 5 == len(got)  # once each
    assert got["ada@example.com"]["variant_id"] == got["grace@example.com"]["variant_id"] is not None
    assert (
        got["ada@example.com"]["created_at"] < "2026-11-24T08"
        and got["grace@example.com"]["created_at"] >= "2026-11-24T15"
    )


def test_a_reader_who_leaves_while_their_variant_fills_up_is_not_mailed(
    example: Path, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A variant's readers are read, then held until its batch fills: whether each still receives the list is
    decided again when the batch is written, so someone who unsubscribed in between gets nothing."""
    from digest import subscribers

    home = example
    choose(home, "ada@example.com", ["tech"])
    real = Store.owed_with_choices
    left: list[str] = []

    def read_then_leave(self: Store, *args: object, **kwargs: object):  # type: ignore[no-untyped-def]
        chunk = real(self, *args, **kwargs)  # type: ignore[arg-type]
        if chunk and not left:
            with Store(load(home).db_path) as other:  # the reader's click, on another connection
                left.extend(subscribers.unsubscribe(other, "ada@example.com"))
        return chunk

    monkeypatch.setattr(Store, "owed_with_choices", read_then_leave)
    cli("run")
    assert left == ["main"]
    edition = last_edition(home)
    assert "ada@example.com" not in received(home, edition)
    with Store(load(home).db_path) as store:
        person = store.subscriber("ada@example.com")
        assert person is not None and store.subscription(person.id, store.list_("main").id) == "unsubscribed"
        assert not store.scalar("SELECT count(*) FROM sends WHERE subscriber_id = ?", (person.id,))
        assert store.send_counts(edition).sent == 4  # everyone else got theirs


def test_on_a_list_the_editor_approves_a_topics_variant_holds_only_approved_stories(example: Path, cli: Cli) -> None:
    from digest import Newsletter

    home = example
    choose(home, "ada@example.com", ["tech"])
    cli("lists", "edit", "main", "--require-approval")
    cli("run")  # built and held
    edition = last_edition(home)
    with Newsletter.open(home) as news:
        approved = news.draft(edition)
        news.approve_edition(edition, by="editor")
    cli("run")
    with Store(load(home).db_path) as store:
        person = store.subscriber("ada@example.com")
        assert person is not None
        variant_id = store.scalar(
            "SELECT variant_id FROM sends WHERE edition_id = ? AND subscriber_id = ?", (edition, person.id)
        )
        assert variant_id is not None
        got = [s.story_id for s in store.variant_stories(variant_id)]
    shown = [s.story_id for s in approved.stories]
    assert got and set(got) <= set(shown)  # nothing the editor did not see
    assert got == [sid for sid in shown if sid in got]  # in the editor's order
    tags = source_tags(home)
    assert all("tech" in tags[s] for s in story_sources(home, edition, "ada@example.com"))
