"""An Atom feed (RFC 4287) of one list's editions that went out, each with its full web copy."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from xml.etree import ElementTree as ET

from digest import clock, urls
from digest.config import Config
from digest.models import MailingList, iso, parse_iso

ATOM = "http://www.w3.org/2005/Atom"


def _stamp(value: str | None) -> str:
    """An RFC 3339 time as Atom wants it (the store's ISO times, normalised to UTC)."""
    return iso(parse_iso(value) or clock.now())


def atom_feed(config: Config, lst: MailingList, rows: list[dict[str, Any]], page: Callable[[int], str]) -> str:
    """The feed for ``lst`` over ``rows`` (archive entries, newest first); ``page(id)`` is an edition's HTML.

    Every link is absolute under ``public_url`` (:mod:`digest.urls`): feed readers resolve nothing relative
    reliably.
    """
    base = config.public_url
    title = lst.display_title
    ET.register_namespace("", ATOM)
    feed = ET.Element(f"{{{ATOM}}}feed")
    feed.set("{http://www.w3.org/XML/1998/namespace}lang", lst.language or "en")  # the list's, as its pages

    def sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
        el = ET.SubElement(parent, f"{{{ATOM}}}{tag}", attrs)
        if text is not None:
            el.text = text
        return el

    sub(feed, "id", urls.list_feed(base, lst.name))
    sub(feed, "title", f"{config.settings.name}: {title}" if title != config.settings.name else title)
    sub(feed, "updated", _stamp(rows[0]["sent_at"]) if rows else _stamp(None))
    author = sub(feed, "author")
    sub(author, "name", config.settings.name)
    sub(feed, "link", rel="self", type="application/atom+xml", href=urls.list_feed(base, lst.name))
    sub(feed, "link", rel="alternate", type="text/html", href=urls.list_page(base, lst.name))
    for row in rows:
        entry = sub(feed, "entry")
        url = urls.edition(base, row["id"])
        sub(entry, "id", url)
        sub(entry, "title", row["subject"] or row["date_long"])
        sub(entry, "published", _stamp(row["sent_at"]))
        sub(entry, "updated", _stamp(row["sent_at"]))
        sub(entry, "link", rel="alternate", type="text/html", href=url)
        sub(entry, "content", page(row["id"]), type="html")
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(feed, encoding="unicode") + "\n"
