"""Collecting over HTTP from a real server on 127.0.0.1: timeouts, errors, caching, redirects, caps."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from digest.collect import collect
from digest.config import load
from digest.store import Store
from tests.support import NOW
from tests.support.collect import Route, feed_server, http_date, rss, story_count


def feed(n: int, site: str = "https://site.example", prefix: str = "Story") -> bytes:
    return rss(
        [
            {
                "title": f"{prefix} {i}",
                "link": f"{site}/{prefix.lower()}/{i}",
                "guid": f"{prefix}-{i}",
                "pubDate": "Mon, 23 Nov 2026 10:00:00 GMT",
            }
            for i in range(n)
        ]
    ).encode()


@pytest.fixture
def fast(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DIGEST_COLLECT_TIMEOUT", "0.5")
    monkeypatch.setenv("DIGEST_COLLECT_USER_AGENT", "digest-test/1.0 (+https://example.test)")


def test_several_sources_at_once_with_one_that_hangs_and_one_that_fails(
    store: Store, initialised: Path, fast: None
) -> None:
    with feed_server() as server:
        server.routes["/a.xml"] = Route(feed(3, prefix="A"))
        server.routes["/b.xml"] = Route(feed(2, prefix="B"))
        server.routes["/hang.xml"] = Route(hang=True)
        server.routes["/boom.xml"] = Route(status=500)
        for name in ("a", "b", "hang", "boom"):
            store.add_source(name, server.url(f"/{name}.xml"))
        started = time.monotonic()
        report = collect(store, load(initialised), now=NOW)
        elapsed = time.monotonic() - started
        by_name = {s.name: s for s in report.sources}
        assert elapsed < 5  # the hanging server did not hold the run
        assert by_name["a"].new == 3 and by_name["b"].new == 2
        assert by_name["hang"].error and "timed out" in by_name["hang"].error
        assert by_name["boom"].error and "HTTP 500" in by_name["boom"].error
        assert report.failed == 2 and story_count(store) == 5
        assert server.hits_for("/a.xml")[0].headers["user-agent"] == "digest-test/1.0 (+https://example.test)"
        health = {s.name: s for s in store.sources()}
        assert health["boom"].consecutive_failures == 1 and "HTTP 500" in (health["boom"].last_error or "")
        assert health["a"].last_success_at and health["a"].consecutive_failures == 0
        assert health["a"].kind == "rss"


def test_cli_collect_exit_codes_and_json(initialised: Path, cli, fast: None) -> None:  # noqa: ANN001
    with feed_server() as server:
        server.routes["/ok.xml"] = Route(feed(2))
        server.routes["/boom.xml"] = Route(status=500)
        cli("sources", "add", server.url("/ok.xml"), "--name", "ok")
        cli("sources", "add", server.url("/boom.xml"), "--name", "boom")
        result = cli("collect", "--json", code=3)
        report = json.loads(result.stdout)
        assert (report["new"], report["failed"]) == (2, 1)
        assert {s["name"]: s["error"] is not None for s in report["sources"]} == {"ok": False, "boom": True}
        assert "Traceback" not in result.stderr
        cli("sources", "remove", "ok")
        result = cli("collect", code=1)  # every remaining source failed
        assert "boom" in result.stderr and "HTTP 500" in result.stderr
        listed = json.loads(cli("sources", "list", "--json").stdout)
        assert listed[0]["name"] == "boom" and listed[0]["consecutive_failures"] == 2


def test_conditional_get_costs_one_request_and_changes_nothing(store: Store, initialised: Path) -> None:
    with feed_server() as server:
        server.routes["/etag.xml"] = Route(feed(3, prefix="E"), etag='"v1"')
        server.routes["/lm.xml"] = Route(feed(2, prefix="L"), last_modified=http_date())
        store.add_source("etag", server.url("/etag.xml"))
        store.add_source("lm", server.url("/lm.xml"))
        config = load(initialised)
        first = collect(store, config, now=NOW)
        assert first.new == 5
        second = collect(store, config, now=NOW)
        assert (second.new, second.updated, second.unchanged, second.failed) == (0, 0, 5, 0)  # held, unchanged
        etag_hits, lm_hits = server.hits_for("/etag.xml"), server.hits_for("/lm.xml")
        assert [h.status for h in etag_hits] == [200, 304] and [h.status for h in lm_hits] == [200, 304]
        assert etag_hits[1].headers["if-none-match"] == '"v1"'
        assert lm_hits[1].headers["if-modified-since"] == http_date()
        assert story_count(store) == 5
        # the feed changes: a new ETag, one item edited, one added
        changed = feed(3, prefix="E").replace(b"<title>E 1</title>", b"<title>E 1 (corrected)</title>")
        server.routes["/etag.xml"] = Route(
            changed.replace(
                b"</channel>", b"<item><title>E new</title><link>https://site.example/e/new</link></item></channel>"
            ),
            etag='"v2"',
        )
        third = collect(store, config, now=NOW)
        assert (third.new, third.updated) == (1, 1)
        assert story_count(store) == 6


def test_redirects_are_followed_and_the_final_url_is_the_base(store: Store, initialised: Path) -> None:
    body = (
        rss([{"title": "Rel", "link": "posts/1", "description": '&lt;a href="../about"&gt;a&lt;/a&gt;'}])
        .replace("<link>https://site.example/</link>", "")
        .encode()
    )
    with feed_server() as server:
        server.routes["/old"] = Route(status=301, location="/moved/feed.xml")
        server.routes["/moved/feed.xml"] = Route(body)
        store.add_source("moved", server.url("/old"))
        report = collect(store, load(initialised), now=NOW)
        assert report.new == 1, report.sources[0].error
        story = store.story(store.stories()[0].id)
        assert story.url == server.url("/moved/posts/1")
        assert f'href="{server.url("/about")}"' in story.body_html


def test_redirect_loops_and_the_size_cap_are_clear_errors(
    store: Store, initialised: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DIGEST_COLLECT_MAX_BYTES", "2000")
    with feed_server() as server:
        server.routes["/loop"] = Route(status=302, location="/loop")
        server.routes["/big.xml"] = Route(feed(100))
        server.routes["/small.xml"] = Route(feed(1))
        for name in ("loop", "big", "small"):
            store.add_source(name, server.url(f"/{name}" + ("" if name == "loop" else ".xml")))
        report = collect(store, load(initialised), now=NOW)
        errors = {s.name: s.error for s in report.sources}
        assert "redirected more than" in errors["loop"]
        assert "2000-byte cap" in errors["big"]
        assert errors["small"] is None and story_count(store) == 1


def test_collect_urls_given_directly(store: Store, initialised: Path) -> None:
    with feed_server() as server:
        server.routes["/direct.xml"] = Route(feed(2))
        report = collect(store, load(initialised), [server.url("/direct.xml")], now=NOW)
        name = report.sources[0].name
        assert report.new == 2 and store.source(name).location == server.url("/direct.xml")
        assert "127.0.0.1" not in store.source(name).display_name  # the feed's own title, not the URL
        assert collect(store, load(initialised), [server.url("/direct.xml")], now=NOW).new == 0


def test_an_article_page_over_http_becomes_one_clean_story(store: Store, initialised: Path) -> None:
    paragraphs = "".join(
        f"<p>Paragraph {i} of the article tells the reader something new about the harbour "
        f"and the ships that came in on day {i}.</p>"
        for i in range(8)
    )
    page = (
        f"<!DOCTYPE html><html lang='en'><head><title>Harbour reopens | Port News</title>"
        f"<meta property='og:type' content='article'><meta property='og:image' content='/img/lead.jpg'>"
        f"<script>alert(1)</script></head><body><nav>Home | World | Sport</nav><article>"
        f"<h1>Harbour reopens</h1>{paragraphs}<p>Share this</p></article>"
        f"<footer>Top Stories</footer></body></html>"
    ).encode()
    with feed_server() as server:
        server.routes["/news/harbour.html?utm_source=tw"] = Route(page, content_type="text/html; charset=utf-8")
        report = collect(store, load(initialised), [server.url("/news/harbour.html?utm_source=tw")], now=NOW)
        assert report.new == 1, report.sources[0]
        story = store.story(store.stories()[0].id)
        assert story.title.startswith("Harbour reopens")
        assert story.url == server.url("/news/harbour.html")
        assert "Paragraph 7" in story.body_text and "alert" not in story.body_text
        assert "Top Stories" not in story.body_text and "Home | World" not in story.body_text
        assert story.image_url == server.url("/img/lead.jpg")
        assert story.language == "en"


def test_a_server_trickling_bytes_cannot_hold_the_run(
    store: Store, initialised: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DIGEST_COLLECT_TIMEOUT", "1")
    monkeypatch.setenv("DIGEST_COLLECT_TOTAL_TIMEOUT", "0.5")
    with feed_server() as server:
        server.routes["/slow.xml"] = Route(feed(20), trickle=0.05)  # each read well within the 1 s timeout
        store.add_source("slow", server.url("/slow.xml"))
        started = time.monotonic()
        report = collect(store, load(initialised), now=NOW)
        assert time.monotonic() - started < 3
        assert report.sources[0].error and "total_timeout" in report.sources[0].error


def test_one_run_fetches_every_feed_over_one_client(
    store: Store, initialised: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Connections (and their TLS set-up) are shared by the run's fetches, not made again for each feed."""
    monkeypatch.setenv("DIGEST_COLLECT_CONCURRENCY", "1")
    with feed_server(keep_alive=True) as server:
        for i in range(6):
            server.routes[f"/f{i}.xml"] = Route(feed(2, prefix=f"F{i}"), etag=f'"f{i}"')
            store.add_source(f"f{i}", server.url(f"/f{i}.xml"))
        report = collect(store, load(initialised), now=NOW)
        assert (report.new, report.failed) == (12, 0)
        assert len(server.hits) == 6 and len({h.port for h in server.hits}) == 1


def test_a_repoll_of_unchanged_feeds_keeps_one_connection(
    store: Store, initialised: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A 304 is read to its (empty) end, so its connection serves the next feed instead of being closed."""
    monkeypatch.setenv("DIGEST_COLLECT_CONCURRENCY", "1")
    with feed_server(keep_alive=True) as server:
        for i in range(6):
            server.routes[f"/f{i}.xml"] = Route(feed(2, prefix=f"F{i}"), etag=f'"f{i}"')
            store.add_source(f"f{i}", server.url(f"/f{i}.xml"))
        collect(store, load(initialised), now=NOW)
        server.hits.clear()
        again = collect(store, load(initialised), now=NOW)
        assert (again.new, again.unchanged, again.failed) == (0, 12, 0)
        assert [h.status for h in server.hits] == [304] * 6 and len({h.port for h in server.hits}) == 1
