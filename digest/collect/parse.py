"""Turning one document's bytes into stories: feeds, JSON Feed, article pages, text files.

The format is sniffed from the content, never from the file name. RSS and Atom go through feedparser;
JSON Feed through :mod:`digest.collect.jsonfeed`; article pages and text files through
:mod:`digest.collect.article`.
"""

from __future__ import annotations

import re
from calendar import timegm
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import feedparser  # type: ignore[import-untyped]

from digest.collect import clean, images
from digest.collect.encoding import normalise_declared_encoding, text_head, undeclared_to_utf8
from digest.collect.jsonfeed import looks_like_json, parse_json_document
from digest.errors import SourceError
from digest.models import ParsedDocument, StoryIn

_FEED_ROOT = re.compile(r"<(rss|feed|rdf:rdf|channel)\b")
_HTML_ROOT = re.compile(r"<(!doctype html|html|body|head|article|div|p|meta)\b")


def sniff(data: bytes) -> str:
    """``json``, ``feed``, ``html`` or ``text``, from the content (never the file name)."""
    lowered = text_head(data).lstrip().lower()
    if looks_like_json(lowered):
        return "json"
    if not lowered.startswith("<"):
        return "text"
    # skip the XML prolog (declaration, comments, doctype, processing instructions) before deciding
    body = re.sub(r"^(\s*(<\?.*?\?>|<!--.*?-->|<!doctype[^>]*>))*", "", lowered, flags=re.S).lstrip()
    if body.startswith("<html") or lowered.startswith("<!doctype html"):
        return "html"
    if _FEED_ROOT.match(body) or _FEED_ROOT.search(lowered[:2048]):
        return "feed"
    if _HTML_ROOT.match(body):
        return "html"
    return "feed"  # other XML: let the feed parser say what is wrong with it


_PAGE_TITLE = re.compile(rb"<title\b[^>]*>(.*?)</title\s*>", re.I | re.S)
# what maintenance pages, error pages and bot checks call themselves (a whole title, or one part of a title
# split at " | ", " - ", ": "): never an article, whatever a real story's headline says about maintenance
_NOT_AN_ARTICLE = re.compile(
    r"(?:(?:the )?(?:site|website|we(?:['’]re| are)|currently|temporarily) )?(?:(?:is )?(?:down|closed|offline) )?"
    r"(?:for |under |in )?(?:scheduled |planned )?maintenance(?: mode| in progress)?|"
    r"(?:site )?under construction|we['’]ll be (?:right )?back(?: soon)?|be right back|"
    r"just a moment(?:\.\.\.|…)?|attention required!?|one moment,? please(?:\.\.\.|…)?|please wait(?:\.\.\.|…)?|"
    r"checking your browser.*|(?:robot|security|bot|human) (?:check|verification)|are you (?:a )?(?:robot|human)\??|"
    r"captcha|ddos[- ]guard|access denied|(?:40[34] )?(?:forbidden|not found)|page not found|(?:50[0234] )?"
    r"(?:service (?:temporarily )?unavailable|bad gateway|gateway time-?out|internal server error)|"
    r"(?:429 )?too many requests|error|site (?:is )?(?:down|offline)|"
    r"wartungsarbeiten|maintenance en cours|(?:sitio )?en mantenimiento|em manutenção",
    re.IGNORECASE,
)
_TITLE_PARTS = re.compile(r"\s+[|·–—-]\s+|:\s+")


def _is_stand_in(title: str) -> bool:
    return any(_NOT_AN_ARTICLE.fullmatch(part.strip(" .!")) for part in [title, *_TITLE_PARTS.split(title)] if part)


def page_title(data: bytes) -> str:
    """An HTML page's ``<title>``, as text ("" when it has none)."""
    match = _PAGE_TITLE.search(data[:65536])
    if not match:
        return ""
    return clean.plain_title(match.group(1).decode("utf-8", "replace"))[:120]


def parse_document(data: bytes, base_url: str | None = None, *, expect_feed: bool = False) -> ParsedDocument:
    """Parse a fetched or read document; raises :class:`SourceError` when nothing is readable.

    An HTML page is an error, naming its title, when a feed was expected (the source gave one before, or its
    URL says feed) or when it is a maintenance page, an error page or a bot check. Whatever the format,
    control and bidi-override characters never get past here.
    """
    if expect_feed or sniff(data) == "html":
        _refuse_stand_ins(data, expect_feed)
    doc = _parse_document(data, base_url)
    for story in doc.stories:
        _strip_controls(story)
    doc.title = clean.strip_controls(doc.title) if doc.title else doc.title
    return doc


def _refuse_stand_ins(data: bytes, expect_feed: bool) -> None:
    """Raise when an HTML page stands in for a feed or an article (see :func:`parse_document`)."""
    if sniff(data) != "html":
        return
    title = page_title(data)
    shown = f"“{title}”" if title else "with no title"
    if _is_stand_in(title):
        raise SourceError(
            f"got an HTML page titled {shown} (a maintenance, error or bot-check page), not a feed or an article:"
            " try again later, or check the address in a browser"
        )
    if expect_feed:
        raise SourceError(
            f"expected a feed but got an HTML page titled {shown}: check the address in a browser, or give"
            " the site's feed URL"
        )


def _strip_controls(story: StoryIn) -> None:
    strip = clean.strip_controls
    story.title = strip(story.title).strip() or "Untitled"
    story.summary, story.body_text, story.body_html = (
        strip(story.summary),
        strip(story.body_text),
        strip(story.body_html),
    )
    story.author = strip(story.author) if story.author else story.author
    story.tags = [t for t in (strip(tag).strip() for tag in story.tags) if t]


def _parse_document(data: bytes, base_url: str | None) -> ParsedDocument:
    if not data.strip():
        raise SourceError("the document is empty")
    kind = sniff(data)
    if kind == "json":
        return parse_json_document(data, base_url)
    if kind == "feed":
        return parse_feed(data, base_url)
    from digest.collect.article import parse_html_article, parse_text_article  # trafilatura: for articles only

    if kind == "html":
        return parse_html_article(data, base_url)
    return parse_text_article(data, base_url)


def _when(entry: dict[str, Any]) -> datetime | None:
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        value = dict.get(entry, key)  # plain lookup: feedparser's key aliasing warns
        if value:
            try:
                return datetime.fromtimestamp(timegm(value), UTC)
            except (OverflowError, ValueError, TypeError):
                continue
    return None


# feedparser's complaints that do not lose anything: a recoverable encoding guess, a missing or odd doctype
_HARMLESS = {"CharacterEncodingOverride", "NonXMLContentType"}
# errors after which feedparser's lenient parser has still read the whole document
_RECOVERED = re.compile(r"undefined entity", re.IGNORECASE)


# a feed this large has its element depth counted before feedparser reads it (whose time grows with size × depth)
DEPTH_CHECK_BYTES = 256_000
_CDATA = re.compile(rb"<!\[CDATA\[.*?\]\]>", re.S)


def parse_feed(data: bytes, base_url: str | None = None) -> ParsedDocument:
    if len(data) >= DEPTH_CHECK_BYTES:
        try:  # markup inside CDATA is text to XML (and need not be well-formed): left out of the count
            clean.check_depth(_CDATA.sub(b"", data).decode("latin-1"), clean.MAX_DEPTH + 32)
        except clean.TooDeep as too_deep:
            raise SourceError(f"the feed cannot be read: {too_deep}") from None
    data, guessed = undeclared_to_utf8(normalise_declared_encoding(data))
    parsed = feedparser.parse(
        data,
        response_headers={"content-location": base_url} if base_url else None,
        sanitize_html=False,
        resolve_relative_uris=False,
    )
    version = parsed.get("version") or ""
    entries = parsed.get("entries") or []
    exc = parsed.get("bozo_exception") if parsed.get("bozo") else None
    if not version and not entries:
        raise SourceError(f"not a feed: {_reason(exc)}" if exc else "not a feed (no RSS, Atom or JSON Feed found)")
    feed = parsed.get("feed") or {}
    home = clean.absolute_url(feed.get("link"), base_url) or base_url
    language = feed.get("language") or None
    stories: list[StoryIn] = []
    empty = 0
    deep: list[str] = []
    for entry in entries:
        try:
            story = _entry_story(entry, home, language)
        except clean.TooDeep as too_deep:
            deep.append(str(too_deep))
            continue
        if story is None:
            empty += 1
        else:
            stories.append(story)
    if deep and not stories:
        raise SourceError(f"nothing readable: {len(deep)} item(s) skipped, {deep[0]}")
    notes = [guessed] if guessed else []
    if deep:
        notes.append(f"{len(deep)} item(s) skipped: {deep[0]}")
    if exc is not None and type(exc).__name__ not in _HARMLESS:
        if not entries and version and _RECOVERED.search(_reason(exc)):
            # an HTML entity in an item-less feed: feedparser read all of it, and there is nothing to read
            notes.append(f"the feed holds no items (and is not well-formed XML: {_reason(exc)})")
        elif not stories:
            raise SourceError(f"broken feed, nothing readable: {_reason(exc)}")
        else:
            notes.append(f"partial ingest of a broken feed ({_reason(exc)}): {len(stories)} readable item(s) kept")
    if not version and stories:
        notes.append("a fragment without a feed root element: its items were read")
    if empty:
        notes.append(f"{empty} empty item(s) without title, link or text skipped")
    if not entries and not any(n.startswith("the feed holds no items") for n in notes):
        notes.append("the feed holds no items")
    clean.tidy_summaries(stories)
    kind = "atom" if version.startswith("atom") else "rss"
    return ParsedDocument(
        stories=stories,
        kind=kind,
        title=clean.plain_title(feed.get("title")) or None,
        warning="; ".join(notes) or None,
        link=clean.absolute_url(feed.get("link"), base_url),
    )


def _reason(exc: BaseException | None) -> str:
    text = str(exc or "unknown error").replace("<unknown>:", "line ")
    return re.sub(r"\s+", " ", text).strip()[:200]


def _permalink(entry: dict[str, Any], base: str | None, home: str | None) -> str | None:
    """The item's own page.

    A "linked list" post's alternate link points off-site while its ``related`` link is the permalink
    on the feed's own site: the permalink is the story's identity there (JSON Feed's ``url`` vs
    ``external_url``). A guid is only a link when it is an absolute http(s) URL.
    """
    link = entry.get("link")
    if entry.get("guidislink") and not re.match(r"https?://", str(link or ""), re.I):
        link = None
    link = clean.canonical_url(link, base)
    site = urlsplit(home).netloc.lower() if home else ""
    if link and site and urlsplit(link).netloc.lower() != site:
        for item in entry.get("links") or []:
            if item.get("rel") == "related":
                related = clean.canonical_url(item.get("href"), base)
                if related and urlsplit(related).netloc.lower() == site:
                    return related
    return link


def _entry_story(entry: dict[str, Any], home: str | None, feed_language: str | None) -> StoryIn | None:
    content = entry.get("content") or []
    main = content[0] if content else entry.get("summary_detail") or {}
    body_html_raw = (content[0].get("value") if content else "") or entry.get("summary", "") or ""
    summary_raw = entry.get("summary", "") or ""
    clean.check_depth(body_html_raw)
    if summary_raw is not body_html_raw:
        clean.check_depth(summary_raw)
    entry_base = clean.absolute_url(entry.get("title_detail", {}).get("base"), home) or home
    content_base = clean.absolute_url(main.get("base"), entry_base) or entry_base
    link = _permalink(entry, entry_base, home)
    fragment = _fragment(entry.get("link"), link, entry_base)
    body_html = clean.sanitize_html(body_html_raw, content_base)
    body_text = clean.html_to_text(body_html_raw)
    summary_text = clean.html_to_text(summary_raw) if summary_raw else body_text
    title = clean.plain_title(entry.get("title"))
    if not title:
        if not body_text and not link and not body_html:
            return None
        title = clean.title_from_text(body_text)[0] if body_text else clean.title_from_url(link) or "Untitled"
    comments = entry.get("slash_comments") or entry.get("thr_total")
    engagement: dict[str, int] = {}
    if str(comments or "").strip().isdigit():
        engagement["comments"] = int(str(comments).strip())
    stats = entry.get("media_statistics") or {}
    for key in ("views", "favorites"):
        if str(stats.get(key, "")).isdigit():
            engagement[key] = int(stats[key])
    language = main.get("language") or entry.get("title_detail", {}).get("language") or feed_language
    return StoryIn(
        title=title,
        url=link,
        guid=entry.get("id") or None,
        author=clean.plain_title(entry.get("author")) or None,
        published_at=_when(entry),
        summary=summary_text,  # the whole of it: clean.tidy_summaries shortens it once every item is read
        body_text=body_text,
        body_html=body_html,
        image_url=_lead_image(entry, body_html, link or content_base),
        tags=[t.get("term") for t in entry.get("tags") or [] if t.get("term")],
        language=clean.language_code(language),
        comments=engagement.get("comments"),
        engagement=engagement,
        fragment=fragment,
    )


def _fragment(raw: Any, link: str | None, base: str | None) -> str:
    """The raw link's ``#fragment`` when the permalink is that link (not an on-site ``related`` one)."""
    absolute = clean.absolute_url(str(raw), base) if raw else None
    if not absolute or not link or clean.canonical_url(absolute) != link:
        return ""
    return urlsplit(absolute).fragment


def _lead_image(entry: dict[str, Any], body_html: str, base: str | None) -> str | None:
    """Media RSS thumbnail or image, an image enclosure, iTunes image, else the first image in the body.

    Never a tracking pixel, an icon or an avatar (:mod:`digest.collect.images`): the next candidate is taken.
    """
    candidates: list[tuple[str | None, Any, Any]] = []
    for media in (entry.get("media_thumbnail") or []) + (entry.get("media_content") or []):
        medium = str(media.get("medium") or media.get("type") or "image")
        if media.get("url") and (medium.startswith("image")):
            candidates.append((clean.absolute_url(media["url"], base), media.get("width"), media.get("height")))
    for enclosure in entry.get("enclosures") or []:
        if str(enclosure.get("type", "")).startswith("image/"):
            candidates.append((clean.absolute_url(enclosure.get("href"), base), None, None))
    image = entry.get("image") or {}
    if isinstance(image, dict) and image.get("href"):
        candidates.append((clean.absolute_url(image["href"], base), None, None))
    for url, width, height in candidates:
        if images.usable(url, width, height):
            return url
    return images.first_image(body_html)
