"""Which image may be a story's picture: never a tracking pixel, an icon, an avatar or a signature.

An image is refused when its size is known (attributes, Media RSS, a WordPress ``-72x72`` file name, ``?w=``
query) and either side is at most :data:`MIN_SIDE` pixels, or when its URL is a known tracker, counter,
spacer or avatar service. Unknown sizes pass: most feeds do not say, and a real photo is the common case.
"""

from __future__ import annotations

import html
import re
from typing import Any
from urllib.parse import parse_qsl, urlsplit

MIN_SIDE = 100  # pixels: at most this on either side is an icon, an avatar, a signature or a pixel

_TRACKERS = re.compile(
    r"feeds\.feedburner\.com/~(?:r|ff|a)/|feedproxy\.google\.com/~r/|stats\.wordpress\.com|pixel\.wp\.com|"
    r"doubleclick\.net|google-analytics\.com|googletagmanager\.com|facebook\.com/tr\b|scorecardresearch\.com|"
    r"quantserve\.com|//pixel\.|/pixel(?:\.gif|\.png|\.php)?(?:[/?]|$)|/beacon|/tracking/|/open\.gif|"
    r"/(?:spacer|blank|transparent|clear|dot|1x1|trans)\.(?:gif|png)\b|/1x1[/._-]|gravatar\.com/avatar|"
    r"feedsportal\.com|/counter(?:\.|/)|/emoji/|s\.w\.org/images/core/emoji|/wp-includes/images/smilies/",
    re.IGNORECASE,
)
_WP_SIZE = re.compile(r"-(\d{1,4})x(\d{1,4})\.(?:jpe?g|png|gif|webp)$", re.IGNORECASE)
_IMG = re.compile(r"<img\b[^>]*>", re.IGNORECASE)
_ATTR = re.compile(r"\b(src|width|height)=\"([^\"]*)\"", re.IGNORECASE)


def _pixels(value: Any) -> int | None:
    """``72``, ``"72"``, ``"72px"`` -> 72; a percentage or nonsense -> None (unknown)."""
    match = re.fullmatch(r"\s*(\d{1,5})(?:\.\d+)?\s*(?:px)?\s*", str(value)) if value is not None else None
    return int(match.group(1)) if match else None


def usable(url: str | None, width: Any = None, height: Any = None) -> bool:
    """``url`` may stand for a story (see the module's rules)."""
    if not url or not url.startswith(("http://", "https://")):
        return False
    if _TRACKERS.search(url):
        return False
    parts = urlsplit(url)
    sides = [_pixels(width), _pixels(height)]
    named = _WP_SIZE.search(parts.path)
    if named:
        sides += [int(named.group(1)), int(named.group(2))]
    query = {k.lower(): v for k, v in parse_qsl(parts.query)}
    sides += [_pixels(query.get(k)) for k in ("w", "h", "width", "height", "s", "size") if k in query]
    return not any(side is not None and side <= MIN_SIDE for side in sides)


def first_image(body_html: str) -> str | None:
    """The first usable image of already sanitised HTML (its URLs are absolute)."""
    for tag in _IMG.findall(body_html or ""):
        attrs = {k.lower(): html.unescape(v) for k, v in _ATTR.findall(tag)}
        if usable(attrs.get("src"), attrs.get("width"), attrs.get("height")):
            return attrs["src"]
    return None
