"""Feeds judged fairly: an empty feed is a warning, a legacy encoding is detected and named, an HTML page where
a feed was expected is an error naming the page, and a pathological document fails alone, within a bound."""

from __future__ import annotations

import html
import time
from pathlib import Path

import pytest

from digest.collect import collect, parse_safely
from digest.collect.parse import parse_document
from digest.config import load
from digest.store import Store
from tests.support import NOW
from tests.support.collect import Route, feed_server, rss, story_count, write

TITLE = {"ru": "Новости порта", "ja": "港のニュース"}
TEXT = {
    "ru": "Паром будет ходить до полуночи с понедельника. Жители города давно просили об этом, и администрация "
    "наконец согласилась.",
    "ja": "月曜日からフェリーは深夜まで運航します。市民は長い間これを求めていましたが、ついに市が同意しました。",
}


def _feed(lang: str) -> str:
    """An RSS document with no XML declaration: nothing says how its bytes are encoded."""
    item = f"<item><title>{TITLE[lang]}</title><link>https://port.example/1</link><description>{TEXT[lang]}</description></item>"
    return f'<rss version="2.0"><channel><title>{TITLE[lang]}</title><link>https://port.example/</link>{item}</channel></rss>'


def test_a_feed_with_no_items_is_a_warning_and_the_run_succeeds(tmp_path: Path, initialised: Path, cli) -> None:  # noqa: ANN001
    # as feedparser's entities tests are: an HTML entity XML does not define, and no items
    empty = write(tmp_path / "empty.xml", '<rss version="2.0"><channel><title>Caf&eacute; news</title></channel></rss>')
    plain = write(tmp_path / "plain.xml", rss([]))
    config = load(initialised)
    with Store(config.db_path) as store:
        report = collect(store, config, [str(empty), str(plain)], now=NOW)
    assert report.failed == 0
    assert all("holds no items" in (r.warning or "") for r in report.sources), report.sources
    cli("collect", str(empty), code=0)  # the exit code says nothing failed


@pytest.mark.parametrize(
    ("encoding", "lang", "named"),
    [
        ("koi8-r", "ru", "KOI8-R"),
        ("windows-1251", "ru", "windows-1251"),
        ("euc-jp", "ja", "EUC"),
        ("shift_jis", "ja", "Shift_JIS"),
    ],
)
def test_a_legacy_encoding_without_a_declaration_is_detected_and_named(encoding: str, lang: str, named: str) -> None:
    doc = parse_document(_feed(lang).encode(encoding))
    [story] = doc.stories
    assert story.title == TITLE[lang] and story.body_text == TEXT[lang]
    assert doc.warning and "no encoding declared" in doc.warning and named in doc.warning, doc.warning
    # a text file too
    [text] = parse_document(f"{TEXT[lang]}\n\n{TEXT[lang]}".encode(encoding)).stories
    assert TEXT[lang] in text.body_text


MAINTENANCE = (
    b"<!doctype html><html><head><title>Site down for maintenance</title></head><body><p>Back soon.</p></body></html>"
)
CHALLENGE = b"<!DOCTYPE html><html><head><title>Just a moment...</title></head><body><div>Checking</div></body></html>"
FRONT_PAGE = (
    b"<!doctype html><html><head><title>Port News</title></head><body><article><h1>Bike maintenance tips</h1>"
    + b"<p>Oil the chain every week, and check the brakes before every long ride in the hills.</p>" * 6
    + b"</article></body></html>"
)


def test_an_html_page_where_a_feed_was_expected_is_an_error_naming_it(store: Store, initialised: Path) -> None:
    with feed_server() as server:
        server.routes["/feed.xml"] = Route(MAINTENANCE, content_type="text/html")
        server.routes["/news"] = Route(CHALLENGE, content_type="text/html")
        server.routes["/was-a-feed"] = Route(rss([{"title": "A story", "link": "https://port.example/1"}]).encode())
        server.routes["/article"] = Route(FRONT_PAGE, content_type="text/html")
        for path in ("/feed.xml", "/news", "/was-a-feed", "/article"):
            store.add_source(path.strip("/"), server.url(path))
        config = load(initialised)
        first = {r.name: r for r in collect(store, config, now=NOW).sources}
        assert "“Site down for maintenance”" in (first["feed.xml"].error or "")
        assert "“Just a moment...”" in (first["news"].error or "")  # a bot check, even where no feed was expected
        assert first["was-a-feed"].error is None and first["article"].error is None  # a page about maintenance is fine
        assert story_count(store) == 2
        # the source that gave a feed now answers with a page of the site: an error, not a story
        server.routes["/was-a-feed"] = Route(FRONT_PAGE, content_type="text/html")
        again = {r.name: r for r in collect(store, config, now=NOW).sources}
        assert "expected a feed but got an HTML page titled “Port News”" in (again["was-a-feed"].error or "")
        assert story_count(store) == 2


def _nested(depth: int) -> str:
    return "<div>" * depth + "deep" + "</div>" * depth + "<p>padding text here.</p>" * 3000


def test_an_item_nested_too_deeply_is_left_out_with_the_reason_and_the_rest_kept() -> None:
    items = [
        {"title": "Deep", "link": "https://port.example/1", "description": html.escape(_nested(20_000))},
        {"title": "Fine", "link": "https://port.example/2", "description": "Ferry news."},
    ]
    started = time.perf_counter()
    doc = parse_document(rss(items).encode())
    assert [s.title for s in doc.stories] == ["Fine"]
    assert doc.warning and "1 item(s) skipped: its markup nests more than 256 elements deep" in doc.warning
    assert time.perf_counter() - started < 5  # nh3 alone takes seconds on this; the count takes milliseconds


def test_a_feed_nested_too_deeply_fails_alone(tmp_path: Path, initialised: Path) -> None:
    inner = "<div>" * 40_000 + "deep" + "</div>" * 40_000
    atom = (
        '<feed xmlns="http://www.w3.org/2005/Atom"><title>t</title><id>x</id><entry><title>Deep</title><id>1</id>'
        f'<content type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml">{inner}</div></content></entry></feed>'
    )
    deep = write(tmp_path / "deep.atom", atom)
    fine = write(tmp_path / "fine.xml", rss([{"title": "Fine", "link": "https://port.example/2"}]))
    config = load(initialised)
    with Store(config.db_path) as store:
        report = collect(store, config, [str(deep), str(fine)], now=NOW)
        assert story_count(store) == 1
    by_location = {Path(r.location).name: r for r in report.sources}
    assert "the feed cannot be read: its markup nests more than" in (by_location["deep.atom"].error or "")
    assert by_location["fine.xml"].error is None


def test_parsing_a_document_has_a_time_bound() -> None:
    items = [
        {"title": f"Story {i}", "link": f"https://port.example/{i}", "description": "Text. " * 50} for i in range(3000)
    ]
    data = rss(items).encode()
    doc, error = parse_safely(data, None, time_limit=0.01)
    assert doc is None and error and "took over 0.01s" in error and "parse_timeout" in error
    doc, error = parse_safely(data, None, time_limit=60)  # the timer is gone: a later parse is not cut short
    assert error is None and doc is not None and len(doc.stories) == 3000
