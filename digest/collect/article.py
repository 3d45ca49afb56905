"""Single articles: an HTML page (main text extracted with trafilatura) or a plain-text file."""

from __future__ import annotations

from datetime import UTC, datetime

import charset_normalizer
import trafilatura

from digest.collect import clean
from digest.errors import SourceError
from digest.models import ParsedDocument, StoryIn


def decode_text(data: bytes) -> str:
    for bom, codec in ((b"\xef\xbb\xbf", "utf-8-sig"), (b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16")):
        if data.startswith(bom):
            return data.decode(codec)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        best = charset_normalizer.from_bytes(data).best()
        if best is None:
            raise SourceError("cannot tell the text's encoding; save it as UTF-8") from None
        return str(best)


def parse_text_article(data: bytes, url: str | None = None) -> ParsedDocument:
    text = clean.strip_boilerplate(decode_text(data).replace("\r\n", "\n"))
    if not text:
        raise SourceError("the text file holds no article text")
    title, body = clean.title_from_text(text)
    return ParsedDocument(
        stories=[StoryIn(title=title, url=clean.canonical_url(url) if url else None, summary=clean.summarize(body),
                         body_text=body)],
        kind="text",
    )


def parse_html_article(data: bytes, url: str | None = None) -> ParsedDocument:
    html_text = decode_text(data)
    extracted = trafilatura.bare_extraction(html_text, url=url, with_metadata=True, include_comments=False)
    if extracted is None:
        raise SourceError("no article text found in the HTML page")
    doc = extracted.as_dict() if hasattr(extracted, "as_dict") else dict(extracted)
    text = clean.strip_boilerplate(doc.get("text") or "")
    if not text:
        raise SourceError("no article text found in the HTML page")
    title = clean.plain_title(doc.get("title")) or clean.title_from_text(text)[0]
    link = clean.canonical_url(doc.get("url") or url)
    when = None
    if doc.get("date"):
        try:
            when = datetime.fromisoformat(doc["date"]).replace(tzinfo=UTC)
        except ValueError:
            when = None
    return ParsedDocument(
        stories=[StoryIn(title=title, url=link, author=doc.get("author"), published_at=when,
                         summary=clean.summarize(doc.get("description") or text), body_text=text,
                         image_url=clean.absolute_url(doc.get("image"), link), language=doc.get("language"),
                         tags=[t for t in (doc.get("tags") or []) if t])],
        kind="html",
    )
