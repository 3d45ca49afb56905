"""Control and bidi-override characters never get past collection, so they cannot stop an edition."""

from __future__ import annotations

import json
from pathlib import Path

from digest.collect.parse import parse_document
from digest.store import Store
from tests.support.newsletter import setup_newsletter
from tests.support.rank import source, story

RLO, PDF = "\u202e", "\u202c"


def test_control_and_bidi_characters_are_removed_from_every_format() -> None:
    rss = (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>Feed&#26;</title><item>'
        f"<title>Council &#26;votes {RLO}gnirts{PDF} today</title><link>https://a.example/1</link>"
        "<description>Line one&#1;.&lt;p&gt;Two\u200f&lt;/p&gt;</description><author>Ann&#27;</author>"
        "</item></channel></rss>"
    ).encode()
    doc = parse_document(rss)
    [story] = doc.stories
    assert story.title == "Council votes gnirts today" and doc.title == "Feed"
    assert story.author == "Ann"
    for text in (story.summary, story.body_text, story.body_html):
        assert not any(ord(c) < 32 and c not in "\n\t" for c in text) and RLO not in text and "\u200f" not in text
    jsonfeed = json.dumps(
        {
            "version": "https://jsonfeed.org/version/1.1",
            "title": "J",
            "items": [{"id": "1", "title": "Back\bspace", "content_text": "Body\u0007 text"}],
        }
    ).encode()
    [item] = parse_document(jsonfeed).stories
    assert item.title == "Backspace" and item.body_text == "Body text"
    text = b"Ferry adds a night service\n\nThe ferry\x07 will run until 1am." + b" It stops at every pier." * 10
    assert "\x07" not in parse_document(text).stories[0].body_text


def test_a_feed_with_a_control_character_in_a_title_builds_and_sends(cli, home: Path) -> None:
    feed = (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Local News</title>'
        "<link>https://news.example/</link>"
        "<item><title>Bridge&#26; reopens after repairs</title><link>https://news.example/bridge</link>"
        "<guid>b1</guid><pubDate>Tue, 24 Nov 2026 05:00:00 GMT</pubDate><description>Open.</description></item>"
        f"<item><title>{RLO}Library hours</title><link>https://news.example/library</link><guid>l1</guid>"
        "<pubDate>Tue, 24 Nov 2026 04:00:00 GMT</pubDate><description>Later.</description></item>"
        "</channel></rss>"
    )
    setup_newsletter(cli, home, feed)
    cli("collect")
    built = json.loads(cli("build", "--json").stdout)
    assert sorted(s["title"] for s in built["stories"]) == ["Bridge reopens after repairs", "Library hours"]
    assert "\x1a" not in built["subject"] and RLO not in built["subject"]
    cli("send", "--json")
    sent = list((home / "outbox").rglob("*.eml"))
    assert sent and all(b"\x1a" not in p.read_bytes() for p in sent)


def test_a_story_that_does_not_render_is_left_out_with_a_warning_naming_it(cli, store: Store) -> None:
    # stored before ingest removed control characters: the edition goes out without it
    cli("lists", "add", "main", "--from-email", "news@example.com")
    alpha = source(store, "alpha")
    good = story(store, alpha, "Harbour reopens after storm repairs", hours_ago=1)
    bad = story(store, alpha, "Council\x1a votes on the budget", hours_ago=2)
    result = cli("build", "--json")
    built = json.loads(result.stdout)
    assert [s["story_id"] for s in built["stories"]] == [good]
    assert f"story {bad} " in result.stderr and "left out" in result.stderr
    assert built["warnings"] and f"story {bad} " in built["warnings"][0]
