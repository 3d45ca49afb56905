"""Sources as the editor sees them: readable default names, and OPML subscription lists in and out.

OPML comes from other feed readers, so it is untrusted XML: it is parsed with defusedxml (no entity
expansion, no external entities, no DTD tricks), and only ``outline`` elements with a feed URL count.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit
from xml.etree.ElementTree import Element, SubElement, tostring

from defusedxml import ElementTree as SafeET  # type: ignore[import-untyped]
from defusedxml.common import DefusedXmlException  # type: ignore[import-untyped]

from digest.errors import SourceError
from digest.models import Source
from digest.store import Store

__all__ = ["OpmlReport", "default_name", "export_opml", "import_opml", "slug"]

_NOT_WORD = re.compile(r"[^\w]+")
MAX_NAME = 40


def slug(text: str) -> str:
    """``The Verge — Tech`` -> ``the-verge-tech``: lower case, words joined by hyphens (any script)."""
    words = _NOT_WORD.sub("-", text.lower()).strip("-_")
    return words[:MAX_NAME].rstrip("-_")


def _location_names(location: str) -> list[str]:
    """Readable names for a location, plainest first: the host, then the host with the path's last part."""
    if location.startswith(("http://", "https://")):
        parts = urlsplit(location)
        host = parts.hostname or location
        host = host.removeprefix("www.")
        path = [p for p in unquote(parts.path).split("/") if p]
        # "feed.xml", "rss", "index.atom" say nothing: the part before them names the feed better
        meaningful = [p for p in path if slug(Path(p).stem) not in {"feed", "feeds", "rss", "atom", "index", "xml"}]
        tail = slug(Path(meaningful[-1]).stem) if meaningful else ""
        return [host] + ([f"{host}-{tail}"] if tail else [])
    file = Path(location)
    return [slug(file.stem) or file.name or "source"]


def default_name(store: Store, location: str, title: str | None = None) -> str:
    """A name no source has yet: from the feed's title when known, else the host or the file's name.

    A second feed from the same host gets the host with the feed's path (``example.org-sport``), or a number.
    """
    candidates = ([slug(title)] if title and slug(title) else []) + _location_names(location)
    return store.free_source_name(*candidates)


# -- OPML ------------------------------------------------------------------------------------------------


@dataclass
class OpmlReport:
    added: list[dict[str, Any]] = field(default_factory=list)
    skipped: list[dict[str, str]] = field(default_factory=list)  # location and why

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _location(url: str) -> str | None:
    url = url.strip()
    if url.startswith(("http://", "https://")):
        return url
    if url.startswith("file://"):
        return unquote(urlsplit(url).path) or None
    return None


def import_opml(store: Store, data: bytes, *, weight: float = 1.0, tags: list[str] | None = None) -> OpmlReport:
    """Add a source for every feed outline of an OPML file; folders (nested outlines) become tags.

    A feed already among the sources is skipped and said so; nothing is fetched.
    """
    try:
        root = SafeET.fromstring(data)
    except DefusedXmlException:
        raise SourceError("the OPML file uses entities or a DTD, which are not allowed: export it again") from None
    except SafeET.ParseError as exc:
        raise SourceError(f"the OPML file is not well-formed XML ({exc}): export it again from your reader") from None
    if root.tag.lower() != "opml" or root.find("body") is None:
        raise SourceError("this is not an OPML file (no <opml> with a <body>): give a feed reader's OPML export")
    report = OpmlReport()

    def walk(node: Any, folders: list[str]) -> None:
        for outline in node.findall("outline"):
            text = (outline.get("title") or outline.get("text") or "").strip()
            xml_url = outline.get("xmlUrl") or outline.get("xmlurl") or ""
            if not xml_url:
                walk(outline, folders + ([text] if text else []))
                continue
            location = _location(xml_url)
            if location is None:
                report.skipped.append({"location": xml_url, "why": "not an http(s) or file URL"})
                continue
            known = store.source_by_location(location)
            if known is not None:
                report.skipped.append({"location": location, "why": f"already the source '{known.name}'"})
                continue
            categories = [c.strip("/ ") for c in (outline.get("category") or "").split(",") if c.strip("/ ")]
            source_tags = list(dict.fromkeys([*(tags or []), *folders, *categories]))
            name = default_name(store, location, text)
            added = store.add_source(name, location, weight=weight, tags=source_tags, feed_title=text)
            report.added.append(added.public())

    with store.transaction():
        walk(root.find("body"), [])
    return report


def export_opml(sources: list[Source], title: str) -> str:
    """An OPML 2.0 document listing ``sources`` by display name; local files as ``file://`` URLs."""
    opml = Element("opml", version="2.0")
    head = SubElement(opml, "head")
    SubElement(head, "title").text = title
    body = SubElement(opml, "body")
    for source in sources:
        url = source.location if source.location.startswith(("http://", "https://")) else Path(source.location).as_uri()
        attributes = {"type": "rss", "text": source.display_name, "title": source.display_name, "xmlUrl": url}
        if source.tags:
            attributes["category"] = ",".join(source.tags)
        SubElement(body, "outline", attributes)
    xml = tostring(opml, encoding="unicode")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + xml + "\n"
