"""Turning one document's bytes into stories: feeds, JSON Feed, article pages, text files.

The format is sniffed from the content, never from the file name.
"""

from __future__ import annotations

import json
import re
from calendar import timegm
from datetime import UTC, datetime
from typing import Any

import feedparser

from digest.collect import clean
from digest.errors import SourceError
from digest.models import ParsedDocument, StoryIn


def sniff(data: bytes) -> str:
    """``feed``, ``jsonfeed``, ``json``, ``html`` or ``text``, from the first bytes."""
    head = data[:4096]
    for bom, codec in ((b"\xef\xbb\xbf", "utf-8"), (b"\xff\xfe\x00\x00", "utf-32-le"),
                       (b"\x00\x00\xfe\xff", "utf-32-be"), (b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be")):
        if head.startswith(bom):
            text = head[len(bom):].decode(codec, "ignore")
            break
    else:
        text = head.decode("utf-16", "ignore") if head[:2] in (b"<\x00", b"\x00<") else head.decode("latin-1")
    lowered = text.lstrip().lower()
    if lowered.startswith("{"):
        return "jsonfeed" if "jsonfeed.org/version" in lowered else "json"
    if re.search(r"<(rss|feed|rdf:rdf|channel)\b", lowered):
        return "feed"
    if lowered.startswith("<") and re.search(r"<(html|body|head|article|div|p)\b", lowered):
        return "html"
    if lowered.startswith("<?xml") or lowered.startswith("<"):
        return "feed"
    return "text"


def parse_document(data: bytes, base_url: str | None = None) -> ParsedDocument:
    """Parse a fetched or read document; raises :class:`SourceError` when nothing is readable."""
    if not data.strip():
        raise SourceError("the document is empty")
    kind = sniff(data)
    if kind == "jsonfeed":
        return parse_json_feed(data, base_url)
    if kind == "json":
        raise SourceError("JSON that is not a JSON Feed (no jsonfeed.org version); point at the feed itself")
    if kind == "feed":
        return parse_feed(data, base_url)
    if kind == "html":
        from digest.collect.article import parse_html_article

        return parse_html_article(data, base_url)
    from digest.collect.article import parse_text_article

    return parse_text_article(data, base_url)


def _when(entry: dict[str, Any]) -> datetime | None:
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        value = entry.get(key)
        if value:
            try:
                return datetime.fromtimestamp(timegm(value), UTC)
            except (OverflowError, ValueError, TypeError):
                continue
    return None


def parse_feed(data: bytes, base_url: str | None = None) -> ParsedDocument:
    parsed = feedparser.parse(data, response_headers={"content-location": base_url} if base_url else None,
                              sanitize_html=False, resolve_relative_uris=False)
    version = parsed.get("version") or ""
    entries = parsed.get("entries") or []
    if not version and not entries:
        reason = parsed.get("bozo_exception")
        raise SourceError(f"not a feed: {reason}" if reason else "not a feed (no RSS, Atom or JSON Feed found)")
    feed_link = parsed.feed.get("link") if parsed.get("feed") else None
    stories = [_entry_story(e, feed_link or base_url) for e in entries]
    stories = [s for s in stories if s is not None]
    warning = None
    if parsed.get("bozo"):
        exc = parsed.get("bozo_exception")
        name = type(exc).__name__ if exc else "error"
        if name != "CharacterEncodingOverride":
            if not stories:
                raise SourceError(f"broken feed: {exc}")
            warning = f"partial ingest of a broken feed ({exc})"
    kind = "atom" if version.startswith("atom") else "rss"
    return ParsedDocument(stories=stories, kind=kind, title=parsed.feed.get("title"), warning=warning)


def _entry_story(entry: dict[str, Any], base: str | None) -> StoryIn | None:
    content = entry.get("content") or []
    body_html_raw = content[0].get("value", "") if content else ""
    entry_base = (content[0].get("base") if content else None) or entry.get("title_detail", {}).get("base") or base
    summary_raw = entry.get("summary", "") or ""
    if not body_html_raw:
        body_html_raw = summary_raw
    link = clean.canonical_url(entry.get("link"), entry_base)
    body_html = clean.sanitize_html(body_html_raw, link or entry_base)
    body_text = clean.html_to_text(body_html_raw)
    summary_text = clean.html_to_text(summary_raw) if summary_raw else body_text
    title = clean.plain_title(entry.get("title"))
    if not title:
        if not body_text:
            return None
        title, _ = clean.title_from_text(body_text)
    image = None
    for media in (entry.get("media_thumbnail") or []) + (entry.get("media_content") or []):
        if media.get("url"):
            image = clean.absolute_url(media["url"], link or entry_base)
            break
    if image is None:
        for enclosure in entry.get("enclosures") or []:
            if str(enclosure.get("type", "")).startswith("image/"):
                image = clean.absolute_url(enclosure.get("href"), link or entry_base)
                break
    comments = entry.get("slash_comments") or entry.get("thr_total")
    return StoryIn(
        title=title,
        url=link,
        guid=entry.get("id") or None,
        author=entry.get("author") or None,
        published_at=_when(entry),
        summary=clean.summarize(summary_text),
        body_text=body_text,
        body_html=body_html,
        image_url=image,
        tags=[t.get("term") for t in entry.get("tags") or [] if t.get("term")],
        language=(entry.get("content") or [{}])[0].get("language") or None,
        comments=int(comments) if str(comments or "").isdigit() else None,
    )


def parse_json_feed(data: bytes, base_url: str | None = None) -> ParsedDocument:
    """JSON Feed 1.0 and 1.1 (feedparser does not read them)."""
    try:
        doc = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SourceError(f"broken JSON Feed: {exc}") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("items", []), list):
        raise SourceError("broken JSON Feed: 'items' must be a list")
    home = clean.absolute_url(doc.get("home_page_url"), base_url) or doc.get("feed_url") or base_url
    stories: list[StoryIn] = []
    for item in doc.get("items", []):
        if not isinstance(item, dict):
            continue
        link = clean.canonical_url(item.get("url") or item.get("external_url"), home)
        html_raw = item.get("content_html") or ""
        text = item.get("content_text") or clean.html_to_text(html_raw)
        summary = item.get("summary") or text
        title = clean.plain_title(item.get("title"))
        if not title:
            if not text:
                continue
            title, _ = clean.title_from_text(text)
        when = None
        for key in ("date_published", "date_modified"):
            if item.get(key):
                try:
                    when = datetime.fromisoformat(str(item[key]).replace("Z", "+00:00"))
                    when = when if when.tzinfo else when.replace(tzinfo=UTC)
                    break
                except ValueError:
                    continue
        authors = item.get("authors") or ([item["author"]] if isinstance(item.get("author"), dict) else [])
        author = ", ".join(a.get("name", "") for a in authors if isinstance(a, dict) and a.get("name")) or None
        stories.append(StoryIn(
            title=title, url=link, guid=str(item["id"]) if item.get("id") is not None else None, author=author,
            published_at=when, summary=clean.summarize(summary), body_text=text,
            body_html=clean.sanitize_html(html_raw, link or home),
            image_url=clean.absolute_url(item.get("image") or item.get("banner_image"), link or home),
            tags=[str(t) for t in item.get("tags") or []], language=item.get("language") or doc.get("language"),
        ))
    return ParsedDocument(stories=stories, kind="jsonfeed", title=doc.get("title"))
