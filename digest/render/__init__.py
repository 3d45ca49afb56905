"""Rendering: an edition through Jinja2 into MJML, compiled once, then filled per subscriber.

Values that differ per subscriber (unsubscribe URL, name, web-version URL) are left in the
compiled HTML and text as opaque placeholders (:data:`PLACEHOLDERS`) and filled afterwards by
:meth:`Rendered.fill`, escaped for HTML; MJML is never compiled per subscriber.

An email holds at most :data:`MAX_STORIES` stories: with the shipped templates and the longest
titles, summaries and URLs they allow, that keeps the HTML under Gmail's 102 KB clipping limit
(``tests/test_render.py`` checks it). ``[rank] max_stories`` above the cap is refused at build.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from typing import Any

from digest.config import Config
from digest.errors import ConfigError
from digest.models import MailingList
from digest.render.mjml import compile_mjml
from digest.render.templates import TOKEN, Slot, environment, long_date, render_template
from digest.store import Store

PLACEHOLDERS = ("unsubscribe_url", "web_url", "name", "email")
MAX_STORIES = 15
GMAIL_CLIP_BYTES = 102 * 1024

__all__ = [
    "GMAIL_CLIP_BYTES",
    "MAX_STORIES",
    "PLACEHOLDERS",
    "Rendered",
    "compile_mjml",
    "edition_context",
    "make_context",
    "placeholder",
    "render_context",
    "render_edition",
    "render_sources",
]


def placeholder(name: str) -> Slot:
    return Slot(f"{TOKEN}{name}%%")


@dataclass
class Rendered:
    """One edition, compiled; :meth:`fill` makes one subscriber's copy."""

    subject: str
    preheader: str
    html: str
    text: str
    _html_parts: list[str] = field(default_factory=list, repr=False)
    _text_parts: list[str] = field(default_factory=list, repr=False)
    mjml: str = field(default="", repr=False)

    def __post_init__(self) -> None:
        self._html_parts = _split(self.html)
        self._text_parts = _split(self.text)
        self._html_slots = [(i, self._html_parts[i]) for i in range(1, len(self._html_parts), 2)]
        self._text_slots = [(i, self._text_parts[i]) for i in range(1, len(self._text_parts), 2)]

    def fill(self, values: dict[str, str]) -> tuple[str, str]:
        """(html, text) for one subscriber; ``values`` maps placeholder names to raw strings.

        Each value is HTML-escaped once; the literal parts were split at construction, so a copy
        costs one ``join`` per part (no search, no re-compiling).
        """
        escaped = {k: html.escape(v, quote=True) for k, v in values.items()}
        parts = self._html_parts.copy()
        for i, name in self._html_slots:
            parts[i] = escaped.get(name, "")
        text = self._text_parts.copy()
        for i, name in self._text_slots:
            text[i] = values.get(name, "")
        return "".join(parts), "".join(text)


def _split(compiled: str) -> list[str]:
    """Alternate literal text and placeholder names: [text, name, text, name, ..., text]."""
    parts = [compiled]
    for name in PLACEHOLDERS:
        token = placeholder(name)
        out: list[str] = []
        for i, part in enumerate(parts):
            if i % 2 == 1:
                out.append(part)
                continue
            pieces = part.split(token)
            for j, piece in enumerate(pieces):
                if j:
                    out.append(name)
                out.append(piece)
        parts = out
    return parts


def make_context(
    config: Config, list_row: MailingList, edition_id: int, day: str, stories: list[dict[str, Any]]
) -> dict[str, Any]:
    """What the templates see; per-subscriber values are placeholders filled after compiling."""
    if len(stories) > MAX_STORIES:
        raise ConfigError(
            f"an edition holds at most {MAX_STORIES} stories (more and Gmail clips the email at"
            f" 102 KB), this one has {len(stories)}: set [rank] max_stories to {MAX_STORIES} or less"
        )
    return {
        "newsletter": {"name": config.settings.name, "public_url": config.public_url},
        "list": {k: getattr(list_row, k) for k in ("name", "from_name", "from_email", "address", "subject_prefix")},
        "edition": {"id": edition_id, "date": day, "date_long": long_date(day)},
        "stories": stories,
        "lead": stories[0] if stories else None,
        "rest": stories[1:],
        "subscriber": {k: placeholder(k) for k in ("name", "email")},
        "unsubscribe_url": placeholder("unsubscribe_url"),
        "web_url": placeholder("web_url"),
    }


def edition_context(store: Store, config: Config, edition_id: int) -> dict[str, Any]:
    edition = store.edition(edition_id)
    list_row = store.list_by_id(edition["list_id"])
    return make_context(config, list_row, edition_id, edition["date"], store.edition_stories(edition_id))


def render_sources(config: Config, context: dict[str, Any]) -> tuple[str, str, str, str]:
    """The Jinja half of rendering: (subject, preheader, MJML source, plain text)."""
    env = environment(config)
    subject = " ".join(render_template(env, "subject.txt.j2", context).split())
    preheader = " ".join(render_template(env, "preheader.txt.j2", context).split())
    context = {**context, "subject": subject, "preheader": preheader}
    mjml_source = render_template(env, "digest.mjml.j2", context)
    text = render_template(env, "digest.txt.j2", context).strip() + "\n"
    return subject, preheader, mjml_source, text


def render_context(config: Config, context: dict[str, Any]) -> Rendered:
    subject, preheader, mjml_source, text = render_sources(config, context)
    compiled = compile_mjml(mjml_source, "digest.mjml.j2", environment(config))
    return Rendered(subject=subject, preheader=preheader, html=compiled, text=text, mjml=mjml_source)


def render_edition(store: Store, config: Config, edition_id: int) -> Rendered:
    return render_context(config, edition_context(store, config, edition_id))
