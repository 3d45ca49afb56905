"""The sample newsletter that ``digest init --example`` ships: four fictional sources as local feed files.

``stories.json`` holds the content; :func:`write_example_feeds` turns it into two RSS 2.0 feeds, one Atom 1.0
feed and one JSON Feed 1.1, dated relative to ``now`` so the example always looks fresh. No network is needed
to collect them (the thumbnails point at picsum.photos and only load when a rendered issue is viewed).
"""

from __future__ import annotations

import html
import json
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from importlib import resources
from pathlib import Path
from typing import Any

ATOM = "http://www.w3.org/2005/Atom"
CONTENT = "http://purl.org/rss/1.0/modules/content/"
DC = "http://purl.org/dc/elements/1.1/"
SLASH = "http://purl.org/rss/1.0/modules/slash/"
MEDIA = "http://search.yahoo.com/mrss/"
JSONFEED_VERSION = "https://jsonfeed.org/version/1.1"

for _prefix, _uri in (("content", CONTENT), ("dc", DC), ("slash", SLASH), ("media", MEDIA)):
    ET.register_namespace(_prefix, _uri)


@dataclass
class ExampleSource:
    name: str
    path: Path  # the feed file written
    weight: float
    tags: list[str]


def load_stories() -> dict[str, Any]:
    """The packaged ``stories.json``."""
    text = (resources.files("digest.examples") / "stories.json").read_text(encoding="utf-8")
    return json.loads(text)


def slugify(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "feed"


def story_url(site: str, slug: str) -> str:
    return f"{site.rstrip('/')}/{slug}"


def thumbnail_url(slug: str) -> str:
    return f"https://picsum.photos/seed/{slug}/600/400"


def body_html(body: str) -> str:
    """Plain-text paragraphs (separated by blank lines) as ``<p>`` elements."""
    paragraphs = [p.strip() for p in re.split(r"\n\s*\n", body.strip()) if p.strip()]
    return "".join(f"<p>{html.escape(p, quote=False)}</p>" for p in paragraphs)


def _utc(now: datetime) -> datetime:
    now = now if now.tzinfo else now.replace(tzinfo=UTC)
    return now.astimezone(UTC).replace(microsecond=0)


def _published(now: datetime, story: dict[str, Any]) -> datetime:
    return now - timedelta(hours=float(story["hours_ago"]))


def _rfc3339(dt: datetime) -> str:
    return dt.strftime("%Y-%m-%dT%H:%M:%SZ")


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    element = ET.SubElement(parent, tag, attrs)
    if text is not None:
        element.text = text
    return element


def _thumbnail(parent: ET.Element, slug: str) -> None:
    _sub(parent, f"{{{MEDIA}}}thumbnail", url=thumbnail_url(slug), width="600", height="400")


def _write_xml(root: ET.Element, path: Path) -> None:
    ET.indent(root)
    path.write_bytes(ET.tostring(root, encoding="utf-8", xml_declaration=True) + b"\n")


def build_rss(source: dict[str, Any], now: datetime) -> ET.Element:
    rss = ET.Element("rss", version="2.0")
    channel = _sub(rss, "channel")
    _sub(channel, "title", source["name"])
    _sub(channel, "link", source["site"])
    _sub(channel, "description", f"Stories from {source['name']} (example feed)")
    _sub(channel, "language", "en")
    _sub(channel, "lastBuildDate", format_datetime(now, usegmt=True))
    for story in source["stories"]:
        url = story_url(source["site"], story["slug"])
        item = _sub(channel, "item")
        _sub(item, "title", story["title"])
        _sub(item, "link", url)
        _sub(item, "guid", url, isPermaLink="true")
        _sub(item, "pubDate", format_datetime(_published(now, story), usegmt=True))
        _sub(item, f"{{{DC}}}creator", story["author"])
        _sub(item, "description", story["summary"])
        _sub(item, f"{{{CONTENT}}}encoded", body_html(story["body"]))
        for tag in story.get("tags", []):
            _sub(item, "category", tag)
        if story.get("comments") is not None:
            _sub(item, f"{{{SLASH}}}comments", str(int(story["comments"])))
        if story.get("image"):
            _thumbnail(item, story["slug"])
    return rss


def build_atom(source: dict[str, Any], now: datetime) -> ET.Element:
    # Atom elements stay unqualified under a literal default xmlns; only media/slash get prefixes.
    feed = ET.Element("feed", xmlns=ATOM)
    _sub(feed, "title", source["name"])
    _sub(feed, "subtitle", f"Stories from {source['name']} (example feed)")
    _sub(feed, "id", source["site"].rstrip("/") + "/")
    _sub(feed, "link", href=source["site"], rel="alternate")
    _sub(feed, "updated", _rfc3339(now))
    _sub(_sub(feed, "author"), "name", source["name"])
    for story in source["stories"]:
        url = story_url(source["site"], story["slug"])
        when = _rfc3339(_published(now, story))
        entry = _sub(feed, "entry")
        _sub(entry, "title", story["title"], type="text")
        _sub(entry, "id", url)
        _sub(entry, "link", href=url, rel="alternate", type="text/html")
        _sub(entry, "published", when)
        _sub(entry, "updated", when)
        _sub(_sub(entry, "author"), "name", story["author"])
        _sub(entry, "summary", story["summary"], type="text")
        _sub(entry, "content", body_html(story["body"]), type="html")
        for tag in story.get("tags", []):
            _sub(entry, "category", term=tag)
        if story.get("comments") is not None:
            _sub(entry, f"{{{SLASH}}}comments", str(int(story["comments"])))
        if story.get("image"):
            _thumbnail(entry, story["slug"])
    return feed


def build_json_feed(source: dict[str, Any], now: datetime) -> dict[str, Any]:
    items: list[dict[str, Any]] = []
    for story in source["stories"]:
        url = story_url(source["site"], story["slug"])
        item: dict[str, Any] = {
            "id": url,
            "url": url,
            "title": story["title"],
            "summary": story["summary"],
            "content_html": body_html(story["body"]),
            "content_text": story["body"].strip(),
            "date_published": _rfc3339(_published(now, story)),
            "authors": [{"name": story["author"]}],
            "tags": list(story.get("tags", [])),
        }
        if story.get("image"):
            item["image"] = thumbnail_url(story["slug"])
        items.append(item)
    return {
        "version": JSONFEED_VERSION,
        "title": source["name"],
        "home_page_url": source["site"],
        "description": f"Stories from {source['name']} (example feed)",
        "language": "en",
        "authors": [{"name": source["name"]}],
        "items": items,
    }


def write_example_feeds(dest: Path, now: datetime) -> list[ExampleSource]:
    """Write one feed file per example source into ``dest``; item dates are ``now - hours_ago``."""
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    now = _utc(now)
    written: list[ExampleSource] = []
    for source in load_stories()["sources"]:
        fmt = source["format"]
        slug = slugify(source["name"])
        if fmt == "jsonfeed":
            path = dest / f"{slug}.json"
            text = json.dumps(build_json_feed(source, now), indent=2, ensure_ascii=False)
            path.write_text(text + "\n", encoding="utf-8")
        elif fmt == "rss":
            path = dest / f"{slug}.xml"
            _write_xml(build_rss(source, now), path)
        elif fmt == "atom":
            path = dest / f"{slug}.xml"
            _write_xml(build_atom(source, now), path)
        else:
            raise ValueError(f"unknown example feed format {fmt!r} for {source['name']!r}")
        written.append(
            ExampleSource(
                name=source["name"], path=path, weight=float(source["weight"]), tags=list(source.get("tags", []))
            )
        )
    return written
