"""Rendering: an edition through Jinja2 into MJML, compiled once, then filled per subscriber.

Values that differ per subscriber (unsubscribe URL, name, web-version URL) are left in the
compiled HTML and text as opaque placeholders (:data:`PLACEHOLDERS`) and filled afterwards by
:meth:`Rendered.fill`, escaped for HTML; MJML is never compiled per subscriber.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from datetime import date as date_type
from typing import Any

from mjml import mjml2html

from digest.config import Config
from digest.render.templates import environment, render_template
from digest.store import Store

PLACEHOLDERS = ("unsubscribe_url", "web_url", "name", "email")


def placeholder(name: str) -> str:
    return f"%%digest.{name}%%"


@dataclass
class Rendered:
    """One edition, compiled; :meth:`fill` makes one subscriber's copy."""

    subject: str
    preheader: str
    html: str
    text: str
    _html_parts: list[str] = field(default_factory=list, repr=False)
    _text_parts: list[str] = field(default_factory=list, repr=False)

    def __post_init__(self) -> None:
        self._html_parts = _split(self.html)
        self._text_parts = _split(self.text)

    def fill(self, values: dict[str, str]) -> tuple[str, str]:
        """(html, text) for one subscriber; ``values`` maps placeholder names to raw strings."""
        escaped = {k: html.escape(v, quote=True) for k, v in values.items()}
        return _join(self._html_parts, escaped), _join(self._text_parts, values)


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


def _join(parts: list[str], values: dict[str, str]) -> str:
    out = parts[:]
    for i in range(1, len(out), 2):
        out[i] = values.get(out[i], "")
    return "".join(out)


def make_context(config: Config, list_row: dict[str, Any], edition_id: int, day: str,
                 stories: list[dict[str, Any]]) -> dict[str, Any]:
    """What the templates see; per-subscriber values are placeholders filled after compiling."""
    d = date_type.fromisoformat(day)
    return {
        "newsletter": {"name": config.settings.name, "public_url": config.public_url},
        "list": {k: list_row[k] for k in ("name", "from_name", "from_email", "address", "subject_prefix")},
        "edition": {"id": edition_id, "date": day, "date_long": f"{d:%A}, {d.day} {d:%B %Y}"},
        "stories": stories,
        "lead": stories[0] if stories else None,
        "rest": stories[1:],
        "subscriber": {k: placeholder(k) for k in ("name", "email")},
        "unsubscribe_url": placeholder("unsubscribe_url"),
        "web_url": placeholder("web_url"),
    }


def edition_context(config: Config, store: Store, edition_id: int) -> dict[str, Any]:
    edition = store.edition(edition_id)
    list_row = store.list_by_id(edition["list_id"])
    return make_context(config, list_row, edition_id, edition["date"], store.edition_stories(edition_id))


def render_context(config: Config, context: dict[str, Any]) -> Rendered:
    env = environment(config)
    subject = " ".join(render_template(env, "subject.txt.j2", context).split())
    preheader = " ".join(render_template(env, "preheader.txt.j2", context).split())
    context = {**context, "subject": subject, "preheader": preheader}
    mjml_source = render_template(env, "digest.mjml.j2", context)
    compiled = compile_mjml(mjml_source, "digest.mjml.j2")
    text = render_template(env, "digest.txt.j2", context).strip() + "\n"
    return Rendered(subject=subject, preheader=preheader, html=compiled, text=text)


def render_edition(config: Config, store: Store, edition_id: int) -> Rendered:
    return render_context(config, edition_context(config, store, edition_id))


def compile_mjml(source: str, name: str) -> str:
    from digest.errors import TemplateError

    try:
        return mjml2html(source, disable_comments=True, fonts={})
    except ValueError as exc:
        raise TemplateError(f"{name}: MJML does not compile: {exc}; fix the template's markup") from None
