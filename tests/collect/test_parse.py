"""Parsing and cleaning one document: formats by content, encodings, links, HTML, dates, titles."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from digest.collect import clamp_dates, parse_safely
from digest.collect.clean import canonical_url, sentences, strip_boilerplate, summarize, title_from_text
from digest.collect.parse import parse_document, sniff
from digest.errors import SourceError
from tests.support import NOW, SHARED, need_shared
from tests.support.collect import rss

ATOM = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:base="https://blog.example/2026/" xml:lang="de">
  <title>Blog</title><link href="https://blog.example/"/>
  <entry>
    <title type="html">Hello &lt;b&gt;world&lt;/b&gt;</title>
    <id>tag:blog.example,2026:1</id>
    <link href="posts/hello?utm_source=feed&amp;id=7#top"/>
    <updated>2026-11-20T10:00:00Z</updated>
    <content type="html" xml:base="https://cdn.example/media/">&lt;p&gt;Hi &lt;a href="../about"&gt;about&lt;/a&gt;
      &lt;img src="pic.png" onerror="alert(1)"&gt;&lt;/p&gt;</content>
  </entry>
</feed>"""


def test_atom_entry_is_cleaned_and_links_made_absolute() -> None:
    doc = parse_document(ATOM.encode())
    assert doc.kind == "atom"
    [story] = doc.stories
    assert story.title == "Hello world"
    assert story.url == "https://blog.example/2026/posts/hello?id=7"  # xml:base, tracking and fragment gone
    assert 'href="https://cdn.example/about"' in story.body_html  # the content's own xml:base
    assert 'src="https://cdn.example/media/pic.png"' in story.body_html
    assert "onerror" not in story.body_html and "alert" not in story.body_html
    assert story.image_url == "https://cdn.example/media/pic.png"  # lead image: the first in the body
    assert story.language == "de"
    assert story.published_at is not None and story.published_at.isoformat() == "2026-11-20T10:00:00+00:00"


def test_hostile_html_never_survives() -> None:
    body = (
        '&lt;p onclick="x()" style="color:red"&gt;ok&lt;/p&gt;&lt;script&gt;alert(1)&lt;/script&gt;'
        '&lt;iframe src="https://evil.example/"&gt;&lt;/iframe&gt;'
        '&lt;a href="javascript:alert(1)"&gt;x&lt;/a&gt;'
        '&lt;style&gt;body{}&lt;/style&gt;&lt;a href="relative/page"&gt;rel&lt;/a&gt;'
    )
    doc = parse_document(rss([{"title": "t", "link": "https://site.example/a", "description": body}]).encode())
    html = doc.stories[0].body_html.lower()
    for bad in ("<script", "onclick", "style", "<iframe", "javascript:", "alert"):
        assert bad not in html
    assert "<p>ok</p>" in html
    assert 'href="https://site.example/relative/page"' in html


def test_relative_link_without_any_base_is_dropped() -> None:
    doc = parse_document(
        rss([{"title": "t", "description": '&lt;a href="/x"&gt;x&lt;/a&gt;'}])
        .encode()
        .replace(b"<link>https://site.example/</link>", b"")
    )
    assert "href" not in doc.stories[0].body_html
    assert doc.stories[0].url is None


def test_engagement_author_tags_and_media_image() -> None:
    ns = 'xmlns:slash="http://purl.org/rss/1.0/modules/slash/" xmlns:media="http://search.yahoo.com/mrss/"'
    doc = parse_document(
        rss(
            [
                {
                    "title": "Story",
                    "link": "https://site.example/s",
                    "author": "ann@site.example (Ann)",
                    "category": "Science",
                    "slash:comments": "42",
                    'media:thumbnail url="https://img.example/t.jpg"': "",
                }
            ],
            extra_ns=ns,
            channel="<language>en-US</language>",
        ).encode()
    )
    story = doc.stories[0]
    assert story.comments == 42 and story.engagement == {"comments": 42}
    assert story.image_url == "https://img.example/t.jpg"
    assert story.tags == ["Science"]
    assert story.language == "en-us"


def test_json_feed_recognised_by_content_not_by_a_version_string_near_the_top() -> None:
    items = [
        {"id": str(i), "url": f"https://j.example/{i}", "title": f"Item {i}", "content_text": "x " * 2000}
        for i in range(5)
    ]
    data = json.dumps({"items": items, "title": "J", "version": "https://jsonfeed.org/version/1.1"}).encode()
    assert b"jsonfeed.org" not in data[:4096]
    doc = parse_document(data)
    assert doc.kind == "jsonfeed" and len(doc.stories) == 5
    # and a feed whose version is missing altogether, by its shape
    doc = parse_document(json.dumps({"title": "J", "items": items[:2]}).encode())
    assert [s.title for s in doc.stories] == ["Item 0", "Item 1"]


def test_json_that_is_not_a_feed_is_a_clear_error() -> None:
    with pytest.raises(SourceError, match="not a JSON Feed"):
        parse_document(b'{"hello": "world"}')
    with pytest.raises(SourceError, match="broken JSON"):
        parse_document(b'{"items": [')


@pytest.mark.parametrize(
    ("codec", "bom"),
    [
        ("utf-16-le", b"\xff\xfe"),
        ("utf-16-be", b"\xfe\xff"),
        ("utf-32-le", b"\xff\xfe\x00\x00"),
        ("utf-32-be", b"\x00\x00\xfe\xff"),
    ],
)
def test_utf16_and_utf32_feeds(codec: str, bom: bytes) -> None:
    text = rss(
        [{"title": "Grüße 漢字 😀", "link": "https://site.example/x"}],
        encoding=codec.split("-")[0] + "-" + codec.split("-")[1],
    )
    doc = parse_document(bom + text.encode(codec))
    assert doc.stories[0].title == "Grüße 漢字 😀"


def test_declared_legacy_encodings_decode_as_their_supersets() -> None:
    # 𠀀 (U+20000) exists only in GB18030, not in the GB2312 the feed declares
    gb = rss([{"title": "建国35周年纪念 𠀀", "link": "https://site.example/g"}], encoding="gb2312")
    assert parse_document(gb.encode("gb18030")).stories[0].title == "建国35周年纪念 𠀀"
    # 똠 is a CP949 syllable outside EUC-KR proper
    kr = rss([{"title": "한국어 똠방각하", "link": "https://site.example/k"}], encoding="euc-kr")
    assert parse_document(kr.encode("cp949")).stories[0].title == "한국어 똠방각하"
    # curly quotes in bytes 0x93/0x94 under an iso-8859-1 declaration are Windows-1252
    latin = rss([{"title": "“quoted” – £5", "link": "https://site.example/l"}], encoding="iso-8859-1")
    assert parse_document(latin.encode("cp1252")).stories[0].title == "“quoted” – £5"


def test_sniffing_ignores_the_file_name_and_reads_the_content() -> None:
    assert sniff(b'<?xml version="1.0"?>\n<!-- c -->\n<feed xmlns="http://www.w3.org/2005/Atom"/>') == "feed"
    assert sniff(b"<!DOCTYPE html><html><head><title>x</title></head></html>") == "html"
    assert sniff(b'  {"version": "https://jsonfeed.org/version/1"}') == "json"
    assert sniff(b"Just some words.\n\nMore words.") == "text"
    assert sniff("<rss>".encode("utf-16")) == "feed"


def test_broken_feed_is_a_partial_ingest_said_so() -> None:
    data = rss(
        [
            {"title": "One", "link": "https://site.example/1"},
            {"title": "Two &bogus; entity", "link": "https://site.example/2"},
        ]
    )
    doc = parse_document(data.encode()[:-30])  # truncated as well
    assert [s.title for s in doc.stories][:1] == ["One"]
    assert doc.warning and "partial ingest" in doc.warning


@pytest.mark.parametrize(
    "data",
    [
        b"<rss><channel><item><title>x",
        b"\x00\x01\x02garbage\xff" * 10,
        b"<html><body></body></html>",
        b"   ",
        b"<?xml version='1.0'?><root/>",
    ],
)
def test_unreadable_documents_give_an_error_line_never_an_exception(data: bytes) -> None:
    doc, error = parse_safely(data, None)
    if doc is None:
        assert error and "\n" not in error and "Traceback" not in error
    else:
        assert doc.stories


def test_dates_missing_fall_back_and_future_ones_are_clamped() -> None:
    doc = parse_document(
        rss(
            [
                {"title": "undated", "link": "https://site.example/u"},
                {"title": "future", "link": "https://site.example/f", "pubDate": "Tue, 10 Oct 2102 10:00:00 GMT"},
                {"title": "junk date", "link": "https://site.example/j", "pubDate": "insert date here"},
                {"title": "past", "link": "https://site.example/p", "pubDate": "Mon, 23 Nov 2026 10:00:00 GMT"},
            ]
        ).encode()
    )
    dated = clamp_dates(doc.stories, NOW)
    assert [s.published_at for s in dated[:3]] == [NOW, NOW, NOW]
    assert dated[3].published_at == NOW - timedelta(hours=21)


def test_canonical_url_drops_tracking_and_fragments_keeps_the_rest() -> None:
    url = "HTTPS://News.Example:443/a/b?utm_source=x&id=3&fbclid=abc&gclid=1&q=ok#comments"
    assert canonical_url(url) == "https://news.example/a/b?id=3&q=ok"
    assert canonical_url("javascript:alert(1)") is None
    assert canonical_url("../up", "https://x.example/a/b/") == "https://x.example/a/up"


def test_items_without_titles_get_one_from_their_text() -> None:
    doc = parse_document(
        rss(
            [{"link": "https://site.example/n", "description": "Short note about the thing."}, {"description": ""}]
        ).encode()
    )
    assert [s.title for s in doc.stories] == ["Short note about the thing"]
    assert doc.warning and "1 empty item" in doc.warning


def test_repeated_guids_stay_distinct_and_stable() -> None:
    from digest.collect.identity import identify

    doc = parse_document(
        rss([{"guid": "same", "title": "A"}, {"guid": "same", "title": "B"}, {"guid": "other", "title": "C"}]).encode()
    )
    pairs, shared = identify("src", doc.stories)
    keys = [k for k, _ in pairs]
    assert len(set(keys)) == 3 and keys[1] == keys[0] + "#2"
    assert identify("src", doc.stories)[0] == pairs  # stable across runs


def test_sentences_and_summary_in_several_scripts() -> None:
    assert sentences("Dr. Smith came. He left! Then 3 more.") == ["Dr. Smith came.", "He left!", "Then 3 more."]
    assert sentences("Он пришёл. Она ушла.") == ["Он пришёл.", "Она ушла."]
    assert sentences("今天很好。明天也好。") == ["今天很好。", "明天也好。"]
    assert summarize("One. Two. Three goes on " + "word " * 200, 40) == "One. Two."


def test_text_title_prefers_a_headline_line_then_the_opening_sentence() -> None:
    assert title_from_text("Big News Today\nThe body says more.")[0] == "Big News Today"
    assert title_from_text("‘그녀말’ 남상미 연기가 이유\n본문입니다.")[0] == "‘그녀말’ 남상미 연기가 이유"
    assert title_from_text("NEW YORK (Reuters) - Oil fell on Tuesday. More.")[0] == "Oil fell on Tuesday"
    long = (
        "The council voted on Monday to approve the plan, which had been debated for nearly three years "
        "in a series of very long meetings. Next sentence."
    )
    # the main clause, whole: never a sentence cut off with an ellipsis
    assert title_from_text(long)[0] == "The council voted on Monday to approve the plan"


def test_boilerplate_is_stripped_at_the_end_and_cross_links_anywhere() -> None:
    text = "First paragraph.\n\nRead more: Another story\n\nSecond paragraph.\n\nShare this\n\nTop Stories"
    assert strip_boilerplate(text) == "First paragraph.\n\nSecond paragraph."


def test_the_seed_article_becomes_a_clean_story() -> None:
    seed = SHARED / "seed" / "000_72929514e6e39e36.txt"
    need_shared(seed)
    doc = parse_document(seed.read_bytes())
    [story] = doc.stories
    # a whole sentence of the opening that says who: not the first one cut off with "…"
    assert story.title == "Kim Kardashian was recently snapped in a car with Kanye West, emotional and all-teary"
    assert "…" not in story.title and len(story.title) <= 90
    assert "Top Tweets" not in story.body_text and "Top Stories" not in story.body_text
    assert story.body_text.rstrip().endswith("in the eyes of the public.")
    assert story.summary.startswith("If one thinks Kim Kardashian has had it with Kanye West")
    assert story.summary.endswith("but even before this.") and len(story.summary) <= 300
    assert story.title not in story.summary
    # apostrophes the scraper lost, put back where the text proves them
    for repaired in ("She's not wishing", "Kim's focus", "Kanye West's announcement", "there's little", "he's able"):
        assert repaired in story.body_text, repaired
    assert "She's not wishing" in story.summary
    assert "Shes " not in story.body_text and "Kims " not in story.body_text
    assert "her husbands actions" in story.body_text  # a plural or a possessive: ambiguous, left alone


def test_markdown_article_uses_its_heading() -> None:
    doc = parse_document(b"# A Markdown Title\n\nThe body. It goes on.\n\nRelated\n")
    assert doc.kind == "text"
    assert doc.stories[0].title == "A Markdown Title"
    assert doc.stories[0].body_text == "The body. It goes on."
