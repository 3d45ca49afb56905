"""A story's picture is a real image: never a tracking pixel, an icon, an avatar or a signature."""

from __future__ import annotations

import pytest

from digest.collect import images
from digest.collect.parse import parse_document


@pytest.mark.parametrize(
    ("url", "width", "height"),
    [
        ("https://site.example/sig.png", 72, 72),
        ("https://site.example/pixel.gif", "1", "1"),
        ("https://site.example/banner.png", "600px", "90"),
        ("https://site.example/wp-content/uploads/2026/11/logo-72x72.png", None, None),
        ("https://cdn.example/photo.jpg?w=50&h=50", None, None),
        ("https://feeds.feedburner.com/~r/Example/~4/abc123", None, None),
        ("https://stats.wordpress.com/b.gif?host=x", None, None),
        ("https://pixel.wp.com/g.gif?v=1", None, None),
        ("https://secure.gravatar.com/avatar/abc?s=96", None, None),
        ("https://site.example/images/spacer.gif", None, None),
        ("https://www.facebook.com/tr?id=1&ev=PageView", None, None),
        ("javascript:alert(1)", None, None),
    ],
)
def test_tiny_and_tracking_images_are_never_a_picture(url: str, width: object, height: object) -> None:
    assert not images.usable(url, width, height)


@pytest.mark.parametrize(
    ("url", "width", "height"),
    [
        ("https://site.example/photo.jpg", None, None),
        ("https://site.example/photo.jpg", 1200, 800),
        ("https://site.example/wp-content/uploads/2026/11/harbour-1024x683.jpg", None, None),
        ("https://site.example/google-pixel.jpg", "100%", None),
        ("https://cdn.example/photo.jpg?w=1200", None, None),
    ],
)
def test_real_pictures_pass(url: str, width: object, height: object) -> None:
    assert images.usable(url, width, height)


def test_the_first_usable_image_of_the_body_is_taken() -> None:
    body = (
        '<p><img src="https://site.example/t.gif" width="1" height="1">'
        '<img src="https://site.example/avatar.png" width="72" height="72">'
        '<img src="https://site.example/harbour.jpg" width="800" height="450"></p>'
    )
    assert images.first_image(body) == "https://site.example/harbour.jpg"
    assert images.first_image('<img src="https://site.example/t.gif" width="1" height="1">') is None


def feed(item: str) -> bytes:
    return (
        '<?xml version="1.0"?><rss version="2.0" xmlns:media="http://search.yahoo.com/mrss/"><channel>'
        f"<title>T</title><link>https://site.example/</link><item><title>Harbour</title>{item}</item></channel></rss>"
    ).encode()


def test_a_feed_items_tiny_media_image_falls_back_to_a_real_one() -> None:
    item = (
        '<link>https://site.example/harbour</link><media:thumbnail url="https://site.example/icon.png" width="48"'
        ' height="48"/><description>&lt;p&gt;&lt;img src="https://site.example/harbour.jpg"&gt;Text.&lt;/p&gt;'
        '&lt;img src="https://feeds.feedburner.com/~r/site/~4/xyz" height="1" width="1"&gt;</description>'
    )
    [story] = parse_document(feed(item)).stories
    assert story.image_url == "https://site.example/harbour.jpg"


def test_an_item_with_only_a_tracking_pixel_has_no_picture() -> None:
    item = (
        "<link>https://site.example/harbour</link><description>&lt;p&gt;Text.&lt;/p&gt;"
        '&lt;img src="https://site.example/open.gif" height="1" width="1"&gt;</description>'
    )
    [story] = parse_document(feed(item)).stories
    assert story.image_url is None


def test_a_json_feed_image_that_is_a_pixel_is_not_the_picture() -> None:
    doc = (
        b'{"version": "https://jsonfeed.org/version/1.1", "title": "T", "items": [{"id": "1", "url":'
        b' "https://site.example/a", "title": "A", "image": "https://stats.wordpress.com/b.gif",'
        b' "content_html": "<p>Text <img src=\\"https://site.example/a.jpg\\"></p>"}]}'
    )
    [story] = parse_document(doc).stories
    assert story.image_url == "https://site.example/a.jpg"


def test_no_corpus_story_has_a_pixel_or_an_icon_for_a_picture(corpus) -> None:  # noqa: ANN001
    npr = parse_document((corpus / "feeds/wellformed/jsonfeed/trafilatura__feed.json").read_bytes())
    assert all(s.image_url and "/tracking/" not in s.image_url for s in npr.stories)  # NPR's rss pixel is in each
    for path in sorted((corpus / "feeds").rglob("*.*")):
        try:
            doc = parse_document(path.read_bytes())
        except Exception:  # noqa: BLE001, S112 - the broken ones are other tests' business
            continue
        for story in doc.stories:
            assert story.image_url is None or images.usable(story.image_url), (path.name, story.image_url)
