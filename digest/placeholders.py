"""The one home of the per-reader placeholder format.

A rendered edition is the same for every reader except a few values: the unsubscribe and preferences
URLs, the web version's URL, the reader's name and address. Rendering writes each as an opaque token
(``%%digest.unsubscribe_url%%``) into the compiled HTML and text; sending fills them per reader
(:func:`parts` once, then :func:`fill` per copy), and the SendGrid provider hands them to SendGrid as
substitutions (:func:`token` with a variant, e.g. the HTML-escaped one). Nothing else spells the format.

A leaf: imports nothing of digest, so the records (``models.Rendered``), the renderer and the send
layer can all use it.
"""

from __future__ import annotations

import html
import re

NAMES = ("unsubscribe_url", "preferences_url", "web_url", "name", "email")
PREFIX = "%%digest."  # what marks a token; untrusted text that carries it is defused (see :func:`defuse`)
END = "%%"


class Slot(str):
    """A token the renderer itself put in: the only text a template may output that carries :data:`PREFIX`."""


def token(name: str, variant: str = "") -> Slot:
    """The token for ``name`` (one of :data:`NAMES`); a ``variant`` (``"h"``) names a second key for the same slot."""
    return Slot(f"{PREFIX}{name}.{variant}{END}" if variant else f"{PREFIX}{name}{END}")


def defuse(text: str) -> str:
    """``text`` with the marker broken, so that story text (untrusted) can never become a per-reader slot.

    Without this, a feed item could put ``%%digest.email%%`` in an image URL and have every reader's
    address filled into a request to its own server.
    """
    return text.replace(PREFIX, "%%digest_") if PREFIX in text else text


_TOKENS = {str(token(n)): n for n in NAMES}
_PATTERN = re.compile("|".join(map(re.escape, _TOKENS)))


def split(body: str) -> tuple[list[str], list[str]]:
    """The literal parts of ``body`` and the slot names between them (one literal more than names)."""
    literals: list[str] = []
    names: list[str] = []
    pos = 0
    for m in _PATTERN.finditer(body):
        literals.append(body[pos : m.start()])
        names.append(_TOKENS[m.group(0)])
        pos = m.end()
    literals.append(body[pos:])
    return literals, names


def used(body: str) -> set[str]:
    """The slot names that appear in ``body``."""
    return {_TOKENS[m.group(0)] for m in _PATTERN.finditer(body)}


Parts = tuple[list[str], tuple[tuple[int, str], ...]]


def parts(body: str) -> Parts:
    """``body`` split once for :func:`fill`: literals and slot names alternating, and where each slot is."""
    literals, names = split(body)
    seq = [literals[0]]
    for name, literal in zip(names, literals[1:], strict=True):
        seq += (name, literal)
    return seq, tuple((2 * i + 1, name) for i, name in enumerate(names))


def fill(body: Parts, values: dict[str, str], *, escape: bool) -> str:
    """A body split by :func:`parts` with ``values`` in its slots (HTML-escaped if ``escape``); a missing value is
    empty. No search per copy: a list copy, a few assignments and one join (a benchmarked fast path)."""
    seq, slots = body
    if escape:
        values = {k: html.escape(v, quote=True) for k, v in values.items()}
    out = seq.copy()
    get = values.get
    for i, name in slots:
        out[i] = get(name, "")
    return "".join(out)


def substitute(body: str, values: dict[str, str], *, escape: bool) -> str:
    """``body`` with the slots named in ``values`` filled (others left as tokens): for values shared by all readers."""
    for name, value in values.items():
        body = body.replace(token(name), html.escape(value, quote=True) if escape else value)
    return body
