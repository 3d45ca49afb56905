"""JSON Feed 1.0 and 1.1 (https://jsonfeed.org/version/1.1); feedparser does not read them."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from digest.collect import clean, images
from digest.collect.encoding import bom_codec
from digest.errors import SourceError
from digest.models import ParsedDocument, StoryIn


def looks_like_json(head: str) -> bool:
    return head.startswith(("{", "["))


def load_json(data: bytes) -> Any:
    codec, skip = bom_codec(data)
    try:
        if codec is None:
            return json.loads(data)  # json detects UTF-8/16/32 without a BOM itself
        return json.loads(data[skip:].decode(codec))
    except (UnicodeDecodeError, ValueError) as exc:
        raise SourceError(f"broken JSON: {exc}") from None


def is_json_feed(doc: Any) -> bool:
    """A JSON Feed by its ``version`` URL, or (when that is missing) by its shape: ``items`` plus a title."""
    if not isinstance(doc, dict):
        return False
    version = str(doc.get("version") or "")
    if "jsonfeed.org/version" in version:
        return True
    return isinstance(doc.get("items"), list) and any(k in doc for k in ("title", "home_page_url", "feed_url"))


def parse_json_document(data: bytes, base_url: str | None = None) -> ParsedDocument:
    doc = load_json(data)
    if is_json_feed(doc):
        return parse_json_feed(doc, base_url)
    if isinstance(doc, dict) and isinstance(doc.get("rss"), dict):
        raise SourceError("RSS-in-JSON is not a feed format digest reads: point at the site's RSS (XML) feed")
    raise SourceError("JSON that is not a JSON Feed (no jsonfeed.org version, no items): point at the feed itself")


def _when(item: dict[str, Any]) -> datetime | None:
    for key in ("date_published", "date_modified"):
        if item.get(key):
            try:
                when = datetime.fromisoformat(str(item[key]).strip().replace("Z", "+00:00"))
            except ValueError:
                continue
            return when if when.tzinfo else when.replace(tzinfo=UTC)
    return None


def _authors(item: dict[str, Any], doc: dict[str, Any]) -> str | None:
    for holder in (item, doc):
        authors = holder.get("authors")
        if not isinstance(authors, list):
            authors = [holder["author"]] if isinstance(holder.get("author"), dict) else []
        names = [str(a["name"]).strip() for a in authors if isinstance(a, dict) and a.get("name")]
        if names:
            return ", ".join(names)
    return None


def parse_json_feed(doc: dict[str, Any], base_url: str | None = None) -> ParsedDocument:
    items = doc.get("items")
    if not isinstance(items, list):
        raise SourceError("broken JSON Feed: 'items' must be a list")
    home = (
        clean.absolute_url(doc.get("home_page_url"), base_url)
        or clean.absolute_url(doc.get("feed_url"), base_url)
        or base_url
    )
    stories: list[StoryIn] = []
    skipped = 0
    deep: list[str] = []
    for item in items:
        try:
            story = _item_story(item, doc, home) if isinstance(item, dict) else None
        except clean.TooDeep as too_deep:
            deep.append(str(too_deep))
            continue
        if story is None:
            skipped += 1
        else:
            stories.append(story)
    if deep and not stories:
        raise SourceError(f"nothing readable: {len(deep)} item(s) skipped, {deep[0]}")
    if items and not stories:
        raise SourceError("broken JSON Feed: no item has a title, link or text")
    clean.tidy_summaries(stories)
    notes = [f"{skipped} unreadable or empty item(s) skipped"] if skipped else []
    notes += [f"{len(deep)} item(s) skipped: {deep[0]}"] if deep else []
    warning = "; ".join(notes) or None
    if not items:
        warning = "the feed holds no items"
    return ParsedDocument(
        stories=stories,
        kind="jsonfeed",
        title=clean.plain_title(doc.get("title")) or None,
        warning=warning,
        link=clean.absolute_url(doc.get("home_page_url"), base_url)
        if isinstance(doc.get("home_page_url"), str)
        else None,
    )


def _item_story(item: dict[str, Any], doc: dict[str, Any], home: str | None) -> StoryIn | None:
    link = clean.canonical_url(_str(item.get("url")), home) or clean.canonical_url(_str(item.get("external_url")), home)
    html_raw = _str(item.get("content_html"))
    clean.check_depth(html_raw)
    clean.check_depth(_str(item.get("summary")))
    text = _str(item.get("content_text")) or clean.html_to_text(html_raw)
    if not html_raw and text:
        html_raw = "".join(f"<p>{clean.escape(p)}</p>" for p in text.split("\n\n") if p.strip())
    summary = clean.html_to_text(_str(item.get("summary"))) or text
    title = clean.plain_title(_str(item.get("title")))
    body_html = clean.sanitize_html(html_raw, link or home)
    if not title:
        if not text and not link and not body_html:
            return None
        title = clean.title_from_text(text)[0] if text else clean.title_from_url(link) or "Untitled"
    image = clean.absolute_url(_str(item.get("image")) or _str(item.get("banner_image")), link or home)
    language = item.get("language") or doc.get("language")
    return StoryIn(
        title=title,
        url=link,
        guid=str(item["id"]) if item.get("id") not in (None, "") else None,
        author=_authors(item, doc),
        published_at=_when(item),
        summary=summary,  # the whole of it: clean.tidy_summaries shortens it once every item is read
        body_text=text,
        body_html=body_html,
        image_url=image if images.usable(image) else images.first_image(body_html),
        tags=[str(t) for t in item.get("tags") or [] if isinstance(t, str | int | float)],
        language=clean.language_code(_str(language)),
        fragment=urlsplit(_str(item.get("url"))).fragment if link and _str(item.get("url")) else "",
    )


def _str(value: Any) -> str:
    return value if isinstance(value, str) else ""
