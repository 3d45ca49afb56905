"""Every public link comes from digest.urls: exact formats (sent mail relies on them), sub-paths, signed
tokens that verify, and a route of `digest serve` that answers each built link."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import pytest
from starlette.routing import Match

from digest import tokens, urls
from digest.config import load
from digest.web import archive, clicks, stories, unsubscribe

KEY = b"k" * 32
BASES = {
    "https://news.example": "https://news.example",
    "https://news.example/": "https://news.example",
    "https://example.org/news": "https://example.org/news",
    "https://example.org/news/": "https://example.org/news",
}


@pytest.mark.parametrize("given", sorted(BASES))
def test_public_links_keep_their_format_under_any_base(given: str) -> None:
    root = BASES[given]
    assert urls.edition(given, 7) == f"{root}/editions/7"
    assert urls.archive(given) == f"{root}/editions"
    assert urls.list_page(given, "main") == f"{root}/lists/main/"
    assert urls.list_feed(given, "main") == f"{root}/lists/main/feed.atom"
    assert urls.story(given, 42) == f"{root}/stories/42"
    assert urls.unsubscribe_placeholder(given) == f"{root}/unsubscribe"


def test_a_sub_path_is_kept_not_replaced() -> None:
    assert urls.list_page("https://example.org/news/", "main") == "https://example.org/news/lists/main/"
    assert urls.sub_path("https://example.org/news/") == "/news"
    assert urls.sub_path("https://example.org/a/b") == "/a/b"
    assert urls.sub_path("https://example.org/") == urls.sub_path("https://example.org") == ""


@pytest.mark.parametrize("purpose", tokens.PURPOSES)
@pytest.mark.parametrize("given", ["https://news.example", "https://example.org/news/"])
def test_signed_links_carry_a_token_for_their_purpose_only(purpose: str, given: str) -> None:
    build = {"unsubscribe": urls.unsubscribe, "confirm": urls.confirm, "preferences": urls.preferences}[purpose]
    link = build(given, KEY, 12, 3)
    prefix = f"{BASES[given]}/{purpose}/"
    assert link.startswith(prefix)
    token = link.removeprefix(prefix)
    assert token == tokens.sign(KEY, purpose, 12, 3)  # the format sent mail already carries
    assert tokens.verify(KEY, token, purpose) == tokens.TokenClaims(purpose, 12, 3)
    for other in tokens.PURPOSES:
        if other != purpose:
            with pytest.raises(tokens.BadToken):
                tokens.verify(KEY, token, other)
    with pytest.raises(tokens.BadToken):
        tokens.verify(b"another key", token, purpose)


def test_list_names_are_escaped_in_paths() -> None:
    assert urls.list_path("main-2_b") == "lists/main-2_b/"
    assert urls.list_path("a/b c") == "lists/a%2Fb%20c/"


@pytest.mark.parametrize(
    ("page", "target", "suffix", "href"),
    [
        ("editions", "editions/5", "", "editions/5"),  # /editions links to /editions/5
        ("lists/main/", "editions/5", "", "../../editions/5"),
        ("lists/main/", "lists/main/feed.atom", "", "feed.atom"),
        ("index.html", "editions/5", ".html", "editions/5.html"),  # the static archive's files
        ("lists/main/index.html", "editions/5", ".html", "../../editions/5.html"),
        ("editions/5", "lists/main/", "", "../lists/main/"),
    ],
)
def test_relative_hrefs_between_archive_pages(page: str, target: str, suffix: str, href: str) -> None:
    assert urls.relative(page, target, suffix) == href


def test_every_built_link_is_answered_by_a_route_of_digest_serve(initialised: Path) -> None:
    """A link in sent mail that no route answers is a dead link for good: each builder meets its route."""
    config = load(initialised)
    routes = [*unsubscribe.routes(config), *archive.routes(config), *stories.routes(config), *clicks.routes(config)]
    base = "https://example.org/news/"
    built = {
        "unsubscribe": (urls.unsubscribe(base, KEY, 1, 1), ("GET", "POST")),
        "confirm": (urls.confirm(base, KEY, 1, 1), ("GET", "POST")),
        "web copy's unsubscribe": (urls.unsubscribe_placeholder(base), ("GET",)),
        "edition": (urls.edition(base, 3), ("GET",)),
        "archive": (urls.archive(base), ("GET",)),
        "list": (urls.list_page(base, "main"), ("GET",)),
        "feed": (urls.list_feed(base, "main"), ("GET",)),
        "story": (urls.story(base, 42), ("GET",)),
        "tracked story link": (urls.click(base, KEY, 3, 42), ("GET", "HEAD")),
        # preferences (issue 12) has a builder; its route is still to come
    }
    for name, (link, methods) in built.items():
        path = urlsplit(link).path.removeprefix(urls.sub_path(base))
        for method in methods:
            scope = {"type": "http", "path": path, "method": method}
            assert any(r.matches(scope)[0] is Match.FULL for r in routes), f"{name}: {method} {path}"
