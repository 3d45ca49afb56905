"""The library the CLI is a thin client of: what `Newsletter` decides on its own (defaults, lookups, links)."""

from __future__ import annotations

import email
from collections.abc import Iterator
from datetime import UTC, datetime
from email import policy
from pathlib import Path

import pytest

from digest import Newsletter, clock, tokens, urls
from digest.errors import ConfigError, NotFoundError, SubscriberError

# 12:00 UTC on the 24th is already 02:00 on the 25th in Kiritimati (UTC+14)
NOON = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


@pytest.fixture
def news(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Newsletter]:
    monkeypatch.setenv("DIGEST_NOW", NOON.isoformat())
    monkeypatch.setenv("DIGEST_TIMEZONE", "Pacific/Kiritimati")
    monkeypatch.setenv("DIGEST_PUBLIC_URL", "https://example.org/news/")
    with Newsletter.init(tmp_path / "home", example=True) as opened:
        opened.collect()
        yield opened


def test_an_edition_is_found_for_today_in_the_configured_timezone(news: Newsletter) -> None:
    with pytest.raises(NotFoundError, match=r"no edition of 'main' for 2026-11-25: run 'digest build' \(or pass"):
        news.edition()
    built = news.build()
    assert built.date == "2026-11-25"  # the local date, not UTC's 24th
    assert news.edition() == news.edition("main", "2026-11-25") == news.edition(latest=True) == built.edition
    with pytest.raises(NotFoundError, match=r"for 2026-11-24: run 'digest build'$"):
        news.edition(date="2026-11-24")
    with pytest.raises(ConfigError, match="is not a date"):
        news.edition(date="24/11/2026")


def test_rank_defaults_to_the_local_date_so_yesterdays_sent_stories_stay_out(news: Newsletter) -> None:
    sent = news.build(date="2026-11-24")  # the UTC date: for Kiritimati, yesterday's edition
    assert news.send(sent.edition, provider="outbox").sent > 0
    picked = {r.story_id for r in news.rank().picked}
    already = {s.story_id for s in sent.stories}
    assert picked and not picked & already  # ranked for the 25th: the 24th's stories went out already
    again = {r.story_id for r in news.rank(date="2026-11-24").picked}
    assert again & already  # for the 24th itself, that edition is this one, not history


def test_subscribe_gives_the_confirm_link_only_while_unconfirmed(news: Newsletter) -> None:
    news.store.add_list("doi", from_email="news@example.com", double_opt_in=True)
    added = news.subscribe("Zoe@Example.com", "doi", name="Zoë")
    assert (added.email, added.list, added.status) == ("Zoe@example.com", "doi", "unconfirmed")  # the domain folded
    assert added.confirm_url is not None
    assert added.confirm_url.startswith("https://example.org/news/confirm/")
    token = added.confirm_url.rsplit("/", 1)[1]
    key = tokens.signing_key(news.store)
    issued = int(clock.now().timestamp())  # signed in: the link expires after [web] confirm_days
    claims = tokens.TokenClaims("confirm", added.id, news.store.list_("doi").id, issued)
    assert tokens.verify(key, token, "confirm") == claims
    plain = news.subscribe(added.email, "main")
    assert (plain.status, plain.confirm_url) == ("confirmed", None)


def test_a_copy_carries_the_readers_own_links_or_nobodys(news: Newsletter) -> None:
    edition_id = news.build().edition
    ada = news.store.subscriber("ada@example.com")
    mine = news.copy(edition_id, email="ada@example.com").decode()
    key = tokens.signing_key(news.store)
    own = urls.unsubscribe(news.config.public_url, key, ada.id, news.store.list_("main").id)
    assert own in mine and urls.edition(news.config.public_url, edition_id) in mine
    web = news.copy(edition_id, fmt="text").decode()
    assert f"Unsubscribe: {urls.unsubscribe_placeholder(news.config.public_url)}\n" in web and own not in web
    message = email.message_from_bytes(news.copy(edition_id, fmt="eml", email="ada@example.com"), policy=policy.default)
    assert message["List-Unsubscribe"] == f"<{own}>" and message["To"].addresses[0].addr_spec == "ada@example.com"
    assert news.copy(edition_id, fmt="mjml").startswith(b"<mjml")
    with pytest.raises(ConfigError, match="'pdf' is not one of"):
        news.copy(edition_id, fmt="pdf")


def test_a_test_copy_needs_an_address_and_is_recorded_nowhere(news: Newsletter) -> None:
    edition_id = news.build().edition
    with pytest.raises(SubscriberError):
        news.send_test(edition_id, "not an address")
    report = news.send_test(edition_id, "Editor@Example.com", provider="outbox")
    assert report.sent == 1
    assert news.send(edition_id, provider="outbox").skipped == 0  # nobody counted as having had it


def test_a_list_takes_its_sender_from_the_config_unless_told(news: Newsletter) -> None:
    news.config.settings.sender.from_name = "The Desk"
    made = news.add_list("weekly", from_email="Editor@EXAMPLE.org", boost=[" rust ", "", "rust", "wasm"])
    assert (made.from_email, made.from_name, made.boost) == ("Editor@example.org", "The Desk", ("rust", "wasm"))
    with pytest.raises(SubscriberError, match="cannot be a list name"):
        news.add_list("no spaces")


def test_a_source_is_kept_by_absolute_path_and_named_after_it(
    news: Newsletter, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "feeds").mkdir()
    (tmp_path / "feeds" / "town.xml").write_text("<rss/>", encoding="utf-8")
    monkeypatch.chdir(tmp_path / "feeds")
    local = news.add_source("town.xml", tags=["local"])
    assert (local.name, local.location, local.tags) == ("town", str(tmp_path / "feeds" / "town.xml"), ("local",))
    assert news.add_source("https://feeds.example.org/rss", weight=2).name == "feeds.example.org"
    with pytest.raises(NotFoundError, match="missing.xml does not exist"):
        news.add_source("missing.xml")


def test_the_static_archive_holds_what_went_out_by_the_local_date(news: Newsletter, tmp_path: Path) -> None:
    sent = news.build().edition  # today in Kiritimati (the 25th) while UTC's date is still the 24th
    news.send(sent, provider="outbox")
    draft = news.build(date="2026-11-24").edition  # built, never sent: not in the archive
    early = news.build(date="2026-11-26").edition  # sent, but dated tomorrow: not out yet
    news.send(early, provider="outbox")
    seen: list[tuple[int, int]] = []
    report = news.write_archive(tmp_path / "site", "main", progress=lambda done, of: seen.append((done, of)))
    assert seen == [(1, 1)] and [p.name for p in report.pages] == [f"{sent}.html"]
    index = (tmp_path / "site" / "index.html").read_text(encoding="utf-8")
    assert f'href="editions/{sent}.html"' in index
    assert f"editions/{draft}.html" not in index and f"editions/{early}.html" not in index
    page = (tmp_path / "site" / "lists" / "main" / "index.html").read_text(encoding="utf-8")
    assert f'href="../../editions/{sent}.html"' in page and 'href="feed.atom"' in page
    feed = (tmp_path / "site" / "lists" / "main" / "feed.atom").read_text(encoding="utf-8")
    assert f"<id>{urls.edition('https://example.org/news/', sent)}</id>" in feed
