"""Single articles: an HTML page (main text extracted with trafilatura) or a plain-text / Markdown file."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import trafilatura

from digest.collect import clean, images
from digest.collect.encoding import decode_text
from digest.errors import SourceError
from digest.models import ParsedDocument, StoryIn

_FEED_LINK = re.compile(r"<link\b[^>]*\btype=[\"']application/(?:rss|atom)\+xml[\"'][^>]*>", re.IGNORECASE)
_ARTICLE_SIGNS = re.compile(
    r"og:type[\"']?\s+content=[\"']article|<article\b|\"@type\"\s*:\s*\"(News|Blog)?(Article|Posting)", re.IGNORECASE
)
_HTML_LANG = re.compile(
    r"<html\b[^>]*?\blang=[\"']?([A-Za-z0-9_-]+)|"
    r"<meta\b[^>]*?http-equiv=[\"']content-language[\"'][^>]*?content=[\"']([A-Za-z0-9_-]+)",
    re.IGNORECASE,
)
_MARKDOWN_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+(.+?)\s*#*\s*$")
_MONTHS = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
]
_MONTH = (
    r"(?P<month>jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|"
    r"oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?"
)
# a line that only dates the article: "2020-07-23", "Published: July 23, 2020", "Updated 23 July 2020 10:04"
_DATE_LINE = re.compile(
    r"^\s*(?:(?:published|updated|posted|date)\s*:?\s*(?:on\s+)?)?(?:"
    r"(?P<iso>\d{4}-\d{2}-\d{2})(?:[T ]\d{2}:\d{2}(?::\d{2})?(?:Z|[+-]\d{2}:?\d{2})?)?|"
    rf"{_MONTH}\s+(?P<day>\d{{1,2}}),?\s+(?P<year>\d{{4}})|"
    rf"(?P<day2>\d{{1,2}})\s+{_MONTH.replace('month', 'month2')}\s+(?P<year2>\d{{4}})"
    r")(?:\s*,?\s*\d{1,2}:\d{2}(?:\s*[ap]\.?m\.?)?(?:\s*[A-Z]{2,4})?)?\s*$",
    re.IGNORECASE,
)


def text_date(text: str) -> tuple[datetime | None, str]:
    """The date a text article gives itself on a line of its own among its first or last three lines.

    Returns (the date at midnight UTC, or None; the text without that line).
    """
    lines = text.strip().split("\n")
    for i in [*range(min(3, len(lines))), *range(max(3, len(lines) - 3), len(lines))]:
        m = _DATE_LINE.match(lines[i])
        if not m:
            continue
        try:
            if m.group("iso"):
                when = datetime.fromisoformat(m.group("iso"))
            else:
                month = (m.group("month") or m.group("month2"))[:3].lower()
                day, year = m.group("day") or m.group("day2"), m.group("year") or m.group("year2")
                when = datetime(int(year), [x[:3] for x in _MONTHS].index(month) + 1, int(day))
        except ValueError:
            continue
        return when.replace(tzinfo=UTC), "\n".join(lines[:i] + lines[i + 1 :]).strip()
    return None, text


def parse_text_article(data: bytes, url: str | None = None) -> ParsedDocument:
    """A plain-text or Markdown article: one story, titled by its first line or its opening sentence."""
    boms = (b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")
    if b"\0" in data[:8192] and not data.startswith(boms):
        raise SourceError("this is not text (binary data): give a feed, an HTML page or a text/Markdown article")
    raw, guessed = decode_text(data)
    raw = raw.replace("\r\n", "\n").replace("\r", "\n")
    if _looks_binary(raw):
        raise SourceError("this is not text (binary data): give a feed, an HTML page or a text/Markdown article")
    when, raw = text_date(clean.repair_apostrophes(raw))
    first, _, rest = raw.strip().partition("\n")
    heading = _MARKDOWN_HEADING.match(first)
    if heading and rest.strip():
        title, body = clean.plain_title(heading.group(1)), clean.strip_boilerplate(rest)
    else:
        text = clean.strip_boilerplate(raw)
        if not text:
            raise SourceError("the text file holds no article text")
        title, body = clean.title_from_text(text)
    body = clean.strip_site_boilerplate(body)
    if not body:
        raise SourceError("the text file holds no article text")
    body_html = "".join(f"<p>{clean.escape(p.strip())}</p>" for p in body.split("\n\n") if p.strip())
    return ParsedDocument(
        stories=[
            StoryIn(
                title=title,
                url=clean.canonical_url(url) if url else None,
                published_at=when,
                summary=clean.summarize(body, title=title),
                body_text=body,
                body_html=body_html,
            )
        ],
        kind="text",
        warning=guessed,
    )


def _looks_binary(text: str) -> bool:
    """NUL, or more than 1 in 100 characters a control character: an image, an archive, a PDF."""
    sample = text[:8192]
    if "\0" in sample:
        return True
    controls = sum(1 for c in sample if (c < " " and c not in "\t\n\f\v") or "\x7f" <= c <= "\x9f")
    return controls > len(sample) / 100


def _picture(url: str | None) -> str | None:
    return url if images.usable(url) else None


def _page_language(html: str) -> str | None:
    match = _HTML_LANG.search(html)
    return (match.group(1) or match.group(2)) if match else None


def parse_html_article(data: bytes, url: str | None = None) -> ParsedDocument:
    """An article page: main text by trafilatura, metadata from the page, site furniture stripped."""
    html_text, guessed = decode_text(data)
    try:
        # a whole page counts scripts and unclosed inline tags too: a looser bound than for a feed item's HTML
        clean.check_depth(html_text, 4 * clean.MAX_DEPTH)
    except clean.TooDeep as exc:
        raise SourceError(f"the page cannot be read: {exc}") from None
    extracted = trafilatura.bare_extraction(
        html_text, url=url, with_metadata=True, include_comments=False, include_images=False, output_format="python"
    )
    if extracted is None:
        raise SourceError("no article text found in the HTML page")
    doc = extracted.as_dict() if hasattr(extracted, "as_dict") else dict(extracted)
    title = clean.plain_title(doc.get("title"))
    text = clean.strip_site_boilerplate(clean.strip_boilerplate(doc.get("text") or "", title))
    if not text:
        raise SourceError("no article text found in the HTML page")
    title = title or clean.title_from_text(text)[0]
    link = clean.canonical_url(doc.get("url") or url)
    when = None
    if doc.get("date"):
        try:
            when = datetime.fromisoformat(str(doc["date"])).replace(tzinfo=UTC)
        except ValueError:
            when = None
    warning = guessed
    head = html_text[:200_000]
    feeds = _FEED_LINK.findall(head)
    if feeds and not _ARTICLE_SIGNS.search(head):
        href = re.search(r"\bhref=[\"']([^\"']+)", feeds[0])
        raw = href.group(1) if href else ""
        where = clean.absolute_url(raw, link) or raw
        advice = (
            f"read as one article; this page advertises a feed ({where}): if it is a site's front page, "
            "add that feed instead"
        )
        warning = f"{guessed}; {advice}" if guessed else advice
    body_html = "".join(f"<p>{clean.escape(p.strip())}</p>" for p in text.split("\n") if p.strip())
    return ParsedDocument(
        stories=[
            StoryIn(
                title=title,
                url=link,
                author=doc.get("author"),
                published_at=when,
                summary=clean.summarize(clean.strip_site_boilerplate(doc.get("description") or "") or text),
                body_text=text,
                body_html=body_html,
                image_url=_picture(clean.absolute_url(doc.get("image"), link)),
                language=clean.language_code(doc.get("language") or _page_language(head)),
                tags=[t for t in (doc.get("tags") or doc.get("categories") or []) if t],
            )
        ],
        kind="html",
        title=clean.plain_title(doc.get("sitename")) or None,
        warning=warning,
        link=link,
    )
