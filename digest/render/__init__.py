"""Rendering: an edition through Jinja2 into MJML, compiled once, kept, then filled per subscriber.

Building an edition renders it once into a :class:`digest.models.Rendered` (subject, preheader, HTML and
text) that the store keeps with a *stamp*: a hash of the templates' contents, the edition's frozen
content as the templates see it, and the versions of digest, Jinja and mjml. :func:`render_edition`
returns the kept artefact while its stamp holds, so send, the web copy, preview and archive compile
nothing; a template edit or a rebuild changes the stamp and the next use renders once again.

Values that differ per subscriber (unsubscribe URL, name, web-version URL) are left in the compiled HTML
and text as :mod:`digest.placeholders` tokens and filled afterwards by :meth:`Rendered.fill`, escaped for
HTML; MJML is never compiled per subscriber.

An email holds at most :data:`MAX_STORIES` stories: with the shipped templates and the longest
titles, summaries and URLs they allow, that keeps the HTML under Gmail's 102 KB clipping limit
(``tests/render/test_render.py`` checks it). ``[rank] max_stories`` above the cap is refused at build.
"""

from __future__ import annotations

import hashlib
import json
import os
from functools import lru_cache
from importlib import metadata
from typing import Any

import jinja2

import digest
from digest import clock, i18n, placeholders, tokens, urls
from digest.config import Config
from digest.errors import ConfigError
from digest.models import MailingList, Rendered
from digest.placeholders import token
from digest.render.mjml import compile_mjml
from digest.render.templates import environment, render_template, template_paths
from digest.store import Store

MAX_STORIES = 15
GMAIL_CLIP_BYTES = 102 * 1024
# Bump when this package changes what it renders from the same templates and content (it is in every stamp).
FORMAT = 2  # 2: a story without a URL links to its page (/stories/ID)

__all__ = [
    "GMAIL_CLIP_BYTES",
    "MAX_STORIES",
    "compile_mjml",
    "edition_context",
    "make_context",
    "render_context",
    "render_edition",
    "render_sources",
    "render_variant",
    "stamp",
    "template_texts",
    "variant_context",
]


def make_context(
    config: Config,
    list_row: MailingList,
    edition_id: int,
    day: str,
    stories: list[dict[str, Any]],
    *,
    click_key: bytes | None = None,
) -> dict[str, Any]:
    """What the templates see; per-subscriber values are placeholders filled after compiling.

    With ``click_key`` (``[track] clicks``) each story's ``url`` is its signed redirect (``/c/TOKEN``, the same
    for every reader) and ``target_url`` where it leads."""
    if len(stories) > MAX_STORIES:
        raise ConfigError(
            f"an edition holds at most {MAX_STORIES} stories (more and Gmail clips the email at"
            f" 102 KB), this one has {len(stories)}: set [rank] max_stories to {MAX_STORIES} or less"
        )
    # a story with no link of its own (a text file) links to its page on ``digest serve``
    stories = [
        {**s, "url": urls.story(config.public_url, s["story_id"])} if not s.get("url") and s.get("story_id") else s
        for s in stories
    ]
    if click_key is not None:
        stories = [
            {**s, "target_url": s["url"], "url": urls.click(config.public_url, click_key, edition_id, s["story_id"])}
            if s.get("url") and s.get("story_id")
            else s
            for s in stories
        ]
    words = i18n.messages(list_row.language)
    return {
        "newsletter": {"name": config.settings.name, "public_url": config.public_url},
        "list": {
            **{k: getattr(list_row, k) for k in ("name", "from_name", "from_email", "address", "subject_prefix")},
            "title": list_row.display_title,  # what readers see: never the internal name unless it is all there is
        },
        # the list's language, not the lead story's: each story keeps its own lang on its block
        "lang": words.tag,
        "dir": words.direction,
        # where lines start and end: right-to-left languages mirror alignment, column order and padding
        "start": "right" if words.direction == "rtl" else "left",
        "end": "left" if words.direction == "rtl" else "right",
        "t": words.strings,  # the labels (digest/i18n/messages/<lang>.toml); strings, so the stamp covers them
        "edition": {"id": edition_id, "date": day, "date_long": words.long_date(day)},
        "stories": stories,
        "lead": stories[0] if stories else None,
        "rest": stories[1:],
        "subscriber": {k: token(k) for k in ("name", "email")},
        "unsubscribe_url": token("unsubscribe_url"),
        "preferences_url": token("preferences_url"),
        "web_url": token("web_url"),
    }


def edition_context(store: Store, config: Config, edition_id: int) -> dict[str, Any]:
    edition = store.edition(edition_id)
    list_row = store.list_by_id(edition.list_id)
    stories = [s.as_dict() for s in store.edition_stories(edition_id)]
    click_key = tokens.signing_key(store) if config.settings.track.clicks else None
    context = make_context(config, list_row, edition_id, edition.date, stories, click_key=click_key)
    if edition.subject_edit is not None or edition.preheader_edit is not None:
        # the editor's words replace the templates' (and so change the stamp: the edition renders once more)
        context["edits"] = {"subject": edition.subject_edit, "preheader": edition.preheader_edit}
    return context


def template_texts(config: Config, context: dict[str, Any]) -> tuple[str, str]:
    """(subject, preheader) as the templates make them from ``context``, whatever the editor wrote instead."""
    env = environment(config)
    subject = " ".join(render_template(env, "subject.txt.j2", context).split())
    preheader = " ".join(render_template(env, "preheader.txt.j2", context).split())
    return subject, preheader


def variant_context(store: Store, config: Config, variant_id: int) -> dict[str, Any]:
    """What the templates see of a variant: its edition's context with the variant's own stories, and the choice
    it is for (``choice.topics``, ``choice.frequency``) for templates that want to say so."""
    variant = store.variant(variant_id)
    if variant is None:
        raise ConfigError(f"no variant {variant_id}: it was rebuilt; send the edition again")
    edition = store.edition(variant.edition_id)
    list_row = store.list_by_id(edition.list_id)
    stories = [s.as_dict() for s in store.variant_stories(variant_id)]
    click_key = tokens.signing_key(store) if config.settings.track.clicks else None
    context = make_context(config, list_row, edition.id, edition.date, stories, click_key=click_key)
    return context | {"choice": {"topics": list(variant.topics), "frequency": variant.frequency}}


def render_variant(store: Store, config: Config, variant_id: int) -> Rendered:
    """A variant's one rendered artefact, kept like an edition's (:func:`render_edition`)."""
    context = variant_context(store, config, variant_id)
    mark = stamp(config, context)
    kept = store.variant_rendition(variant_id, mark)
    if kept is not None:
        return kept
    rendered = render_context(config, context, mark)
    store.keep_variant_rendition(variant_id, rendered)
    return rendered


def render_sources(config: Config, context: dict[str, Any]) -> tuple[str, str, str, str]:
    """The Jinja half of rendering: (subject, preheader, MJML source, plain text)."""
    env = environment(config)
    subject, preheader = template_texts(config, context)
    edits: dict[str, str | None] = context.get("edits") or {}
    subject = edits.get("subject") or subject
    preheader = edits.get("preheader") or preheader
    context = {**context, "subject": subject, "preheader": preheader}
    mjml_source = render_template(env, "digest.mjml.j2", context)
    text = render_template(env, "digest.txt.j2", context).strip() + "\n"
    return subject, preheader, mjml_source, text


def render_context(config: Config, context: dict[str, Any], mark: str = "") -> Rendered:
    """Render and compile ``context`` (no store): Jinja once, MJML once."""
    subject, preheader, mjml_source, text = render_sources(config, context)
    compiled = compile_mjml(mjml_source, "digest.mjml.j2", environment(config))
    return Rendered(subject=subject, preheader=preheader, html=compiled, text=text, mjml=mjml_source, stamp=mark)


def render_edition(store: Store, config: Config, edition_id: int) -> Rendered:
    """The edition's one rendered artefact: the store's copy while its stamp holds, else rendered once and kept."""
    context = edition_context(store, config, edition_id)
    mark = stamp(config, context)
    kept = store.rendition(edition_id, mark)
    if kept is not None:
        return kept
    rendered = render_context(config, context, mark)
    store.keep_rendition(edition_id, rendered)
    return rendered


def stamp(config: Config, context: dict[str, Any]) -> str:
    """What a rendering depends on, hashed: the templates' files, the context the templates see, the versions.

    Per-reader values are not in it (they are placeholders), so one stamp serves every reader.
    """
    digest_ = hashlib.sha256()
    digest_.update(_versions().encode("utf-8"))
    digest_.update(_templates_hash(template_paths(config)).encode("ascii"))
    digest_.update(json.dumps(context, sort_keys=True, ensure_ascii=False, default=str).encode("utf-8"))
    return digest_.hexdigest()


@lru_cache(maxsize=1)
def _versions() -> str:
    return json.dumps(
        [FORMAT, digest.__version__, jinja2.__version__, metadata.version("mjml-python"), placeholders.PREFIX]
    )


def _templates_hash(folders: tuple[str, ...]) -> str:
    """Every file in the template folders, in search order (an override in the home's ``templates/`` counts).

    A file's content hash is reused while its size and mtime (ns) are unchanged, as Jinja's own reload
    check does, so checking a kept rendition costs a walk and a ``stat`` per file, not a read.
    """
    h = hashlib.sha256()
    for i, folder in enumerate(folders):
        found: list[tuple[str, str]] = []
        for root, dirs, files in os.walk(folder):
            dirs.sort()
            found += ((os.path.join(root, f), os.path.relpath(os.path.join(root, f), folder)) for f in files)
        for path, rel in sorted(found, key=lambda pair: pair[1]):
            h.update(f"{i}\0{rel}\0".encode())
            h.update(_file_hash(path))
    return h.hexdigest()


_FILE_HASHES: dict[str, tuple[int, int, bytes]] = {}


def _file_hash(path: str) -> bytes:
    st = os.stat(path)
    known = _FILE_HASHES.get(path)
    if known is not None and known[:2] == (st.st_mtime_ns, st.st_size):
        return known[2]
    with open(path, "rb") as fh:
        value = hashlib.sha256(fh.read()).digest()
    # a file changed within the last seconds may change again within its mtime's granularity: read it next time too
    if clock.wall().timestamp() - st.st_mtime > 2:
        _FILE_HASHES[path] = (st.st_mtime_ns, st.st_size, value)
    return value
