"""Cleaning what sources give us: untrusted HTML, tracking URLs, boilerplate, missing titles."""

from __future__ import annotations

import html
import re
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

import nh3

ALLOWED_TAGS = {
    "a",
    "abbr",
    "b",
    "blockquote",
    "br",
    "caption",
    "cite",
    "code",
    "dd",
    "del",
    "dl",
    "dt",
    "em",
    "figcaption",
    "figure",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "hr",
    "i",
    "img",
    "ins",
    "kbd",
    "li",
    "mark",
    "ol",
    "p",
    "pre",
    "q",
    "s",
    "small",
    "strong",
    "sub",
    "sup",
    "table",
    "tbody",
    "td",
    "tfoot",
    "th",
    "thead",
    "tr",
    "u",
    "ul",
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


# C0/C1 controls (but tab and newline), and the bidi embeddings, overrides and isolates that can reorder
# a title or a subject line in a reader's mail client
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c\ufeff]")


def strip_controls(text: str) -> str:
    """``text`` without control characters (tab and newline kept) or bidi formatting characters."""
    return _CONTROLS.sub("", text) if text else text


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


READ_MORE_LINE = re.compile(
    r"^\s*(read more|related|see also|also read|more on this|recommended|watch)\s*:\s*.{0,120}$", re.IGNORECASE
)
META_LINE = re.compile(r"(\|\s*view comments\s*$|\bcategories\s*:.*\|)", re.IGNORECASE)


def strip_boilerplate(text: str, title: str | None = None) -> str:
    """Drop the site furniture scrapers leave in an article.

    Trailing "Top Stories" / "Related" / share blocks, "Read more: ..." cross-links anywhere, a byline
    meta line ("date | categories | View Comments") and a first line that only repeats ``title``.
    """
    paragraphs = [p.strip() for p in re.split(r"\n\s*\n", text.strip())]
    while paragraphs and (not paragraphs[-1] or _is_boilerplate(paragraphs[-1])):
        paragraphs.pop()
    lines = [
        line
        for line in "\n\n".join(p for p in paragraphs if p).split("\n")
        if not READ_MORE_LINE.match(line) and not META_LINE.search(line)
    ]
    while lines and title and _same(lines[0], title):
        lines.pop(0)
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def _same(a: str, b: str) -> bool:
    return re.sub(r"\W+", " ", a).strip().lower() == re.sub(r"\W+", " ", b).strip().lower()


def _is_boilerplate(paragraph: str) -> bool:
    lines = [line for line in paragraph.splitlines() if line.strip()]
    return bool(lines) and all(BOILERPLATE_LINES.match(line) for line in lines)


_SENTENCE_END = re.compile(r"([.!?]+[\"'”’»)]*)(\s+)")


def sentences(text: str) -> list[str]:
    """Sentences of ``text``: split after . ! ? when the next word starts with a capital or a digit.

    Works for any cased script (Latin, Cyrillic, Greek) and CJK full stops.
    """
    flat = re.sub(r"\s+", " ", text).strip()
    if not flat:
        return []
    out: list[str] = []
    start = 0
    for m in _SENTENCE_END.finditer(flat):
        nxt = flat[m.end() : m.end() + 2].lstrip("\"'“‘«(")
        head = flat[start : m.end(1)]
        last_word = head.rsplit(" ", 1)[-1]
        starts_sentence = nxt[:1].isupper() or nxt[:1].lower() == nxt[:1].upper()  # capital, digit or uncased
        if nxt and starts_sentence and not _ABBREVIATION.match(last_word):
            out.append(head.strip())
            start = m.end()
    tail = flat[start:].strip()
    if tail:
        out.append(tail)
    return [part for sentence in out for part in re.split(r"(?<=[。！？])(?=[^\s。！？”’」』])", sentence) if part]


_ABBREVIATION = re.compile(r"^(?:[A-Z]\.|Mr|Mrs|Ms|Dr|St|Jr|Sr|Prof|Gen|Gov|Sen|Rep|Inc|Ltd|Co|vs|U\.S|e\.g|i\.e)\.?$")


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
    first = line[:1]
    return (
        2 <= len(words) <= 16
        and len(line) <= 120
        and not line.rstrip().endswith((".", ",", ";", ":", "。"))
        and (first.isupper() or first.isdigit() or first.lower() == first.upper())
    )


DATELINE = re.compile(r"^[A-Z][A-Z .,'/-]{1,40}(\([^)]{1,40}\))?\s*[-–—]+\s+")


def title_from_text(text: str, limit: int = 100) -> tuple[str, str]:
    """A title for a text article with no title line, and the body that is left.

    The first line is the title when it reads as a headline; otherwise the title is drawn from
    the opening sentence (a "CITY (Agency) -" dateline dropped): the whole sentence when it fits,
    else cut at its last clause boundary (a comma, semicolon or dash) that keeps at least 40
    characters, else at a word boundary; a cut title ends with an ellipsis. The body keeps every line.
    """
    stripped = text.strip()
    first, _, rest = stripped.partition("\n")
    if _reads_as_headline(first.strip()) and rest.strip():
        return first.strip(), rest.strip()
    opening = DATELINE.sub("", sentences(first)[0]) if first.strip() else ""
    opening = opening.strip()
    if len(opening) <= limit:
        return opening.rstrip(".。"), stripped
    window = opening[:limit]
    boundary = max((m.start() for m in re.finditer(r"(?<=\w)[,;:–—]\s|\s[–—-]\s", window)), default=-1)
    if boundary >= 40:
        return window[:boundary].rstrip() + "…", stripped
    return cut(opening, limit), stripped


def escape(text: str) -> str:
    return html.escape(text, quote=False)


def title_from_url(url: str | None) -> str:
    """A last-resort title from a link's last path segment: ``/2020/05/my-post.html`` -> ``My post``."""
    if not url:
        return ""
    segment = next((s for s in reversed(urlsplit(url).path.split("/")) if s), "")
    segment = re.sub(r"\.(s?html?|php|aspx?)$", "", segment, flags=re.I)
    words = re.sub(r"[-_+]+", " ", segment).strip()
    if not words or words.isdigit():
        return urlsplit(url).netloc
    return words[:1].upper() + words[1:]


_IMG_SRC = re.compile(r"<img\b[^>]*?\bsrc=\"(https?://[^\"]+)\"", re.IGNORECASE)


def first_image(body_html: str) -> str | None:
    """The first image of already sanitised HTML (its URLs are absolute)."""
    match = _IMG_SRC.search(body_html or "")
    return html.unescape(match.group(1)) if match else None


def language_code(value: str | None) -> str | None:
    """``en-US`` / ``en_us`` / ``EN`` -> ``en-us`` / ``en-us`` / ``en``; junk -> None."""
    if not value:
        return None
    code = value.strip().replace("_", "-").lower()
    return code if re.fullmatch(r"[a-z]{2,3}(-[a-z0-9]{1,8})*", code) else None
