"""Cleaning what sources give us: untrusted HTML, tracking URLs, boilerplate, missing titles."""

from __future__ import annotations

import html
import re
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

import nh3

ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "caption", "cite", "code", "dd", "del", "dl", "dt", "em",
    "figcaption", "figure", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "ins", "kbd", "li",
    "mark", "ol", "p", "pre", "q", "s", "small", "strong", "sub", "sup", "table", "tbody", "td",
    "tfoot", "th", "thead", "tr", "u", "ul",
}
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title", "width", "height"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan"},
    "abbr": {"title"},
}
TRACKING_PARAMS = re.compile(
    r"^(utm_[a-z_]+|fbclid|gclid|dclid|gbraid|wbraid|msclkid|mc_cid|mc_eid|_hsenc|_hsmi|igshid|yclid|"
    r"ref_src|oly_anon_id|oly_enc_id|vero_id|mkt_tok|s_cid|cmpid)$",
    re.IGNORECASE,
)


def absolute_url(url: str | None, base: str | None) -> str | None:
    """``url`` made absolute against ``base``; None when it cannot be (no http(s) result)."""
    if not url:
        return None
    url = url.strip()
    joined = urljoin(base, url) if base else url
    return joined if urlsplit(joined).scheme in ("http", "https") else None


def canonical_url(url: str | None, base: str | None = None) -> str | None:
    """An absolute http(s) URL without tracking parameters or fragment."""
    absolute = absolute_url(url, base)
    if absolute is None:
        return None
    parts = urlsplit(absolute)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not TRACKING_PARAMS.match(k)]
    netloc = parts.netloc.lower()
    if netloc.endswith(":80") and parts.scheme == "http":
        netloc = netloc[:-3]
    if netloc.endswith(":443") and parts.scheme == "https":
        netloc = netloc[:-4]
    return urlunsplit((parts.scheme.lower(), netloc, parts.path or "/", urlencode(query, doseq=True), ""))


def sanitize_html(fragment: str, base: str | None = None) -> str:
    """Allow-list sanitising: no scripts, handlers, iframes, styles or ``javascript:`` URLs.

    Relative links and image sources are made absolute against ``base`` or dropped.
    """
    if not fragment:
        return ""

    def fix(tag: str, attr: str, value: str) -> str | None:
        if attr in ("href", "src"):
            return absolute_url(value, base)
        return value

    return nh3.clean(
        fragment,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer",
        attribute_filter=fix,
        strip_comments=True,
    ).strip()


_BLOCK_END = re.compile(r"</(p|div|li|h[1-6]|blockquote|pre|tr|figure)>|<br\s*/?>", re.IGNORECASE)


def html_to_text(fragment: str) -> str:
    """Readable plain text from an HTML fragment (tags dropped, entities decoded)."""
    if not fragment:
        return ""
    text = _BLOCK_END.sub("\n", fragment)
    text = nh3.clean(text, tags=set())
    text = html.unescape(text)
    lines = [re.sub(r"[ \t\u00a0]+", " ", line).strip() for line in text.splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def plain_title(raw: str | None) -> str:
    """A one-line title: markup removed, entities decoded, whitespace folded."""
    if not raw:
        return ""
    return re.sub(r"\s+", " ", html_to_text(raw)).strip()


BOILERPLATE_LINES = re.compile(
    r"^\s*(top (tweets|stories|comments)( about (the|this) (story|article))?|related( (stories|articles|posts|"
    r"coverage|reading|content))?|read more|more from .{0,40}|you (may|might) also like|recommended( for you)?|"
    r"share (this|on)( .{0,30})?|(share|tweet|email|print)( this)?( (story|article|page|post))?|"
    r"follow us( on .{0,30})?|sign up for .{0,60}|subscribe( to .{0,60})?|advertisement|sponsored( content)?|"
    r"comments?|leave a (comment|reply)|trending( now)?|popular( now| stories)?|most (read|popular))\s*:?\s*$",
    re.IGNORECASE,
)


def strip_boilerplate(text: str) -> str:
    """Drop the site furniture scrapers leave at the end of an article."""
    paragraphs = [p.strip() for p in re.split(r"\n\s*\n|\r\n\s*\r\n", text.strip())]
    while paragraphs and (not paragraphs[-1] or _is_boilerplate(paragraphs[-1])):
        paragraphs.pop()
    return "\n\n".join(p for p in paragraphs if p)


def _is_boilerplate(paragraph: str) -> bool:
    lines = [line for line in paragraph.splitlines() if line.strip()]
    return bool(lines) and all(BOILERPLATE_LINES.match(line) for line in lines)


_SENTENCE_END = re.compile(r"(?<=[.!?])[\"'”’)]*\s+(?=[\"'“‘(]?[A-Z0-9])")


def sentences(text: str) -> list[str]:
    flat = re.sub(r"\s+", " ", text).strip()
    return [s.strip() for s in _SENTENCE_END.split(flat) if s.strip()] if flat else []


def summarize(text: str, max_chars: int = 300) -> str:
    """The first sentences of ``text``, up to about ``max_chars``, cut at a word boundary."""
    out = ""
    for sentence in sentences(text):
        if out and len(out) + 1 + len(sentence) > max_chars:
            break
        out = f"{out} {sentence}".strip()
        if len(out) >= max_chars:
            break
    return cut(out, max_chars)


def cut(text: str, limit: int) -> str:
    """``text`` shortened to ``limit`` characters at a word boundary, with an ellipsis."""
    text = text.strip()
    if len(text) <= limit:
        return text
    head = text[: limit - 1]
    space = head.rfind(" ")
    if space > limit // 2:
        head = head[:space]
    return head.rstrip(" ,;:-–—") + "…"


def _reads_as_headline(line: str) -> bool:
    words = line.split()
    return (
        2 <= len(words) <= 16
        and len(line) <= 120
        and not line.rstrip().endswith((".", ",", ";", ":"))
        and line[:1].isupper()
    )


def title_from_text(text: str, limit: int = 90) -> tuple[str, str]:
    """A title for a text article with no title line, and the body that is left.

    The first line is the title when it reads as a headline; otherwise the title is drawn from
    the opening sentence, cut at a word boundary, and the body keeps every line.
    """
    stripped = text.strip()
    first, _, rest = stripped.partition("\n")
    if _reads_as_headline(first.strip()) and rest.strip():
        return first.strip(), rest.strip()
    opening = sentences(stripped)[0] if stripped else ""
    clause = re.split(r"(?<=\w)[,;:–—]\s", opening)[0] if len(opening) > limit else opening
    title = cut(clause.rstrip("."), limit)
    return title, stripped
