"""Cleaning what sources give us: untrusted HTML, tracking URLs, boilerplate, missing titles."""

from __future__ import annotations

import html
import re
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

import nh3

from digest.models import StoryIn

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


MAX_DEPTH = 256  # elements inside one another: real articles nest a few dozen deep
DEPTH_CHECK_CHARS = 50_000  # below this an HTML parser is fast however deep the markup: no need to count
_TAG = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9:-]*)[^>]*?(/?)>")
# elements that do not nest (void) or that the next one of their kind closes: they add no depth
_FLAT = frozenset(
    ("area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr", "p", "li",
     "dt", "dd", "tr", "td", "th", "option")
)  # fmt: skip


class TooDeep(ValueError):
    """HTML nested deeper than :data:`MAX_DEPTH`: html5ever's tree building grows faster than linearly with it."""


def check_depth(fragment: str, limit: int = MAX_DEPTH) -> None:
    """Raise :class:`TooDeep` when a large fragment nests more than ``limit`` elements deep (one regex pass)."""
    if len(fragment) < DEPTH_CHECK_CHARS:
        return
    depth = 0
    for m in _TAG.finditer(fragment):
        if m.group(3) or m.group(2).lower() in _FLAT:
            continue
        if m.group(1):
            depth = max(0, depth - 1)
        else:
            depth += 1
            if depth > limit:
                raise TooDeep(f"its markup nests more than {limit} elements deep")


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


# where a block ends (or a new one opens) the text breaks: "wonderfully.</figcaption><p>There's" keeps its space
_BLOCK_END = re.compile(
    r"</(?:p|div|li|h[1-6]|blockquote|pre|tr|figure|figcaption|section|article|header|footer|aside|nav|main|"
    r"table|ul|ol|dl|dt|dd|details|summary|address|caption)\s*>|<br\s*/?>|<hr\b[^>]*>|"
    r"<(?:p|div|li|h[1-6]|blockquote|pre|figure|figcaption|section|article|table|ul|ol|dl|dt|dd)\b[^>]*>",
    re.IGNORECASE,
)
_CELL_END = re.compile(r"</t[dh]\s*>", re.IGNORECASE)


def html_to_text(fragment: str) -> str:
    """Readable plain text from an HTML fragment (tags dropped, entities decoded)."""
    if not fragment:
        return ""
    text = _CELL_END.sub(" ", _BLOCK_END.sub("\n", fragment))
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


# Site furniture that feeds append to an item's text, in the languages feeds are written in. Each matches at the
# end of a paragraph (after the text it follows), or a whole paragraph.
SITE_BOILERPLATE = [
    # WordPress's footer, as its translations write it
    r"The post .{1,300}? appeared first on .{1,200}?",
    r"Der Beitrag .{1,300}? erschien zuerst auf .{1,200}?",
    r"L[’']article .{1,300}? est apparu en premier sur .{1,200}?",
    r"La entrada .{1,300}? se publicó primero en .{1,200}?",
    r"(?:O post|A postagem) .{1,300}? apareceu primeiro em .{1,200}?",
    r"(?:Il post|L[’']articolo) .{1,300}? (?:è apparso|sembra essere) (?:per la prima volta|prima) su .{1,200}?",
    r"Het bericht .{1,300}? verscheen eerst op .{1,200}?",
    r"Запись .{1,300}? впервые появилась .{1,200}?",
    # "read on" links
    r"(?:Read|Click here to read) (?:the )?(?:full|whole|complete|rest of (?:the|this)) "
    r"(?:story|article|post|entry|review|piece)(?: (?:at|on|from) .{1,80}?)?",
    r"Read (?:more|on)(?: here)?(?: (?:at|on) .{1,60}?)?",
    r"Continue reading(?: (?:on|at) .{1,60}?| [“\"‘'].{1,200}?|…)?",
    r"Keep reading|Read more of this story at .{1,60}?|\(more…\)|\(more\.\.\.\)|More »",
    r"(?:This (?:article|story|post) )?(?:was )?originally (?:appeared|published) (?:on|at|in) .{1,120}?",
    r"Weiterlesen|Mehr lesen|Jetzt lesen|Lire la suite|Lire plus|En savoir plus|Leer más|Seguir leyendo|"
    r"Sigue leyendo|Leia mais|Continuar lendo|Continue lendo|Leggi tutto|Leggi di più|Continua a leggere|Lees meer|"
    r"Verder lezen|Czytaj dalej|Czytaj więcej|Читать далее|Подробнее|Läs mer|Les mer|Læs mere|Lue lisää|"
    r"Devamını oku|Číst dále|Olvass tovább|Διαβάστε περισσότερα|Citește mai mult|続きを読む|阅读全文|閱讀全文|"
    r"阅读更多|더 보기|더보기|اقرأ المزيد|קרא עוד|पूरा पढ़ें",
    # rights lines: "© 2024 TechCrunch. All rights reserved. For personal use only."
    r"(?:Copyright\s*)?(?:©|\(c\)|Copyright)\s*(?:\d{4}(?:\s*[-–]\s*\d{4})?)?[^\n©]{0,80}?"
    r"(?:All rights reserved\.?|Alle Rechte vorbehalten\.?|Tous droits réservés\.?|Todos los derechos reservados\.?)"
    r"(?:\s*For personal use only\.?)?",
    r"(?:©|Copyright ©?)\s*\d{4}\b[^\n]{0,80}?",
    r"For personal use only\.?",
]
_TAIL = re.compile(
    r"(?:\s*(?:…|\.\.\.|\[(?:…|\.\.\.|&hellip;)\])?\s*[\[(]?(?:"
    + "|".join(SITE_BOILERPLATE)
    + r")\s*[.!]?\s*[\])]?\s*(?:[→»›>]+|&raquo;)?\s*)+$",
    re.IGNORECASE,
)
_EXCERPT_MARK = re.compile(r"\s*\[(?:…|\.\.\.|&hellip;|&#8230;)\]\s*$")
_GLUED_SENTENCE = re.compile(r"(?<=[a-z0-9]{2}[.!?])(?=[A-Z][a-z]+\b)")


def strip_site_boilerplate(text: str) -> str:
    """``text`` without the furniture sites append to an item (:data:`SITE_BOILERPLATE`), paragraph by paragraph.

    A paragraph that is only furniture goes; furniture at the end of one is cut, and an excerpt's "[…]" becomes
    "…". Nothing in the middle of a sentence is touched.
    """
    if not text:
        return text
    out = []
    for line in text.split("\n"):
        kept = _strip_tail(line)
        if kept != line and kept and not kept.rstrip().endswith((".", "!", "?", "…", "”", '"')):
            kept = kept.rstrip() + "…"
        kept = _EXCERPT_MARK.sub("…", kept)
        if _has_words(kept) or not line.strip() or (kept == line and line.strip() != "…"):
            out.append(kept.rstrip() if kept != line else kept)
    return re.sub(r"\n{3,}", "\n\n", "\n".join(out)).strip()


def _strip_tail(line: str, reach: int = 320) -> str:
    """``line`` without furniture at its end; only its last ``reach`` characters are searched (speed)."""
    head, tail = (line[:-reach], line[-reach:]) if len(line) > reach else ("", line)
    low = tail.lower()
    if not any(word in low for word in _TAIL_HINTS):
        return line
    return head + _TAIL.sub("", tail)


# a cheap test before the big expression: most paragraphs hold none of these
_TAIL_HINTS = (
    "appeared", "erschien", "apparu", "publicó", "apareceu", "apparso", "prima su", "verscheen", "впервые", "read",
    "more", "originally", "©", "(c)", "copyright", "personal use", "weiter", "lesen", "lire", "savoir", "leer",
    "leyendo", "leia", "lendo", "legg", "lees", "lezen", "czytaj", "читать", "подробнее", "läs", "les mer", "læs",
    "lue", "devam", "číst", "olvass", "διαβάστε", "citește", "続き", "阅读", "閱讀", "보기", "اقرأ", "קרא", "पढ़ें",
    "[…]", "[...]", "&hellip;",
)  # fmt: skip


def repeated_lines(texts: list[str], at_least: int = 3) -> set[str]:
    """Lines found in ``at_least`` of ``texts`` (a source's items): a signature, a disclaimer, a promotion."""
    if len(texts) < at_least:
        return set()
    seen: dict[str, int] = {}
    for text in texts:
        for line in {line.strip() for line in text.split("\n") if len(line.strip()) >= 12}:
            seen[line] = seen.get(line, 0) + 1
    return {line for line, count in seen.items() if count >= at_least}


def without_lines(text: str, lines: set[str]) -> str:
    if not lines or not text:
        return text
    kept = [line for line in text.split("\n") if line.strip() not in lines]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(kept)).strip()


def tidy_summaries(stories: list[StoryIn]) -> None:
    """Finish a feed's items: furniture and lines repeated across the items out of summary and text, then the
    summary made (2–3 sentences; from the text when the feed gave none, and never only punctuation).

    The parsers leave the feed's whole summary text in ``summary``; this shortens it.
    """
    repeated = repeated_lines(
        [f"{s.summary}\n{s.body_text}" if s.summary != s.body_text else s.body_text for s in stories]
    )
    for story in stories:
        body = without_lines(story.body_text, repeated)
        # furniture sits at the end: only the last paragraphs of a long text are searched
        head, _, tail = body.rpartition("\n\n") if len(body) > 2000 else ("", "", body)
        body = f"{head}\n\n{strip_site_boilerplate(tail)}".strip() if head else strip_site_boilerplate(tail)
        if body and body != story.body_text:
            story.body_text = body
        # a summary is its first sentences: only the opening of a long text matters
        given = strip_site_boilerplate(_opening(without_lines(story.summary, repeated)))
        story.summary = summarize(_GLUED_SENTENCE.sub(" ", given if _has_words(given) else _opening(body)))
        if not _has_words(story.summary):
            story.summary = ""


def _opening(text: str, reach: int = 1500) -> str:
    """The paragraphs of ``text`` that start within its first ``reach`` characters."""
    if len(text) <= reach:
        return text
    end = text.find("\n", reach)
    return text if end < 0 else text[:end]


def _has_words(text: str) -> bool:
    return any(c.isalnum() for c in text)


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


def summarize(text: str, max_chars: int = 300, title: str | None = None, max_sentences: int = 3) -> str:
    """The first sentences of ``text`` (at most ``max_sentences``, about ``max_chars``), cut at a word boundary.

    A sentence that only says ``title`` again (or begins with it) is left out: the reader has just read it.
    """
    out = ""
    taken = 0
    for sentence in sentences(text):
        if title and _norm(DATELINE.sub("", sentence)).startswith(_norm(title)):
            continue
        if out and (len(out) + 1 + len(sentence) > max_chars or taken >= max_sentences):
            break
        taken += 1
        out = f"{out} {sentence}".strip()
        if len(out) >= max_chars:
            break
    return cut(out, max_chars)


def _norm(text: str) -> str:
    return re.sub(r"\W+", " ", text).strip().lower()


# contractions that, written without their apostrophe, are no word of their own (so not "its", "were", "well",
# "hell", "shed", "lets", "wont"); nor "im" or "dont", which are German and French words
_CONTRACTIONS = {
    w.replace("'", ""): w
    for w in [
        "she's",
        "he's",
        "there's",
        "that's",
        "what's",
        "who's",
        "here's",
        "where's",
        "it'll",
        "doesn't",
        "didn't",
        "isn't",
        "wasn't",
        "aren't",
        "weren't",
        "can't",
        "couldn't",
        "wouldn't",
        "shouldn't",
        "hasn't",
        "haven't",
        "hadn't",
        "mustn't",
        "needn't",
        "ain't",
        "i've",
        "you're",
        "you've",
        "you'll",
        "you'd",
        "they're",
        "they've",
        "they'll",
        "they'd",
        "we've",
        "we'll",
    ]
}
_INNER_APOSTROPHE = re.compile(r"\w['’]\w")
_BARE_WORD = re.compile(r"\b[A-Za-z]+\b")
_CAPITALISED = re.compile(r"\b[A-Z][a-z]+\b")
_NAME_S = re.compile(r"(?<!\bthe )(?<!\bThe )\b([A-Z][a-z]+)s(?= [a-z])")  # "the Olsens": a family
_SENTENCE_START = re.compile(r"(^|[.!?][\"'”’»)]*)\s*$")


def repair_apostrophes(text: str) -> str:
    """Put back apostrophes a scraper lost, only where the text itself proves them.

    Proof is a text with no apostrophe inside any word and at least one contraction that is no word without
    it ("Shes", "theres", "didnt"). Then those contractions are repaired, and a name followed by "s" and a
    lower-case word becomes its possessive when the text uses that name mid-sentence elsewhere ("Kims focus"
    -> "Kim's focus" when "between Kim and Kanye" is there). A word that is itself used as a name ("Williams.")
    is left alone.
    """
    if not text or _INNER_APOSTROPHE.search(text):
        return text
    if not any(m.group().lower() in _CONTRACTIONS for m in _BARE_WORD.finditer(text)):
        return text

    def contraction(m: re.Match[str]) -> str:
        word = m.group()
        fixed = _CONTRACTIONS.get(word.lower())
        if fixed is None or (word.isupper() and len(word) > 1):
            return word
        if fixed.startswith("i'"):
            return "I" + fixed[1:]
        return fixed[:1].upper() + fixed[1:] if word[:1].isupper() else fixed

    text = _BARE_WORD.sub(contraction, text)
    names = {m.group() for m in _CAPITALISED.finditer(text) if not _SENTENCE_START.search(text[: m.start()][-4:])}

    def possessive(m: re.Match[str]) -> str:
        word, stem = m.group(), m.group(1)
        if stem in names and not re.search(rf"\b{word}\b(?! [a-z])", text):
            return f"{stem}'s"
        return word

    return _NAME_S.sub(possessive, text)


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

HEADLINE_MAX = 90
# a clause boundary after which the rest only adds detail: what comes before it is a complete main clause
_CLAUSE_CUT = re.compile(
    r",\s+(?=(?:while|as|after|before|with|which|who|whose|where|when|but|though|although|despite|amid|because|"
    r"since|according to|saying|prompting|leaving|sending|making|following|even as)\b)|\s[–—]\s|\s-\s|;\s"
)
# a sentence opening with these does not make a main clause of what comes before its first comma
_SUBORDINATE = re.compile(
    r"^(?:if|when|whenever|while|although|though|as|after|before|because|since|unless|despite|whether|once|until|"
    r"even|in|on|at|for|by|from|to|according|during|over|under|amid)\b",
    re.IGNORECASE,
)
# openings that do not say who or what the story is about (pronouns, connectives)
_VAGUE = re.compile(
    r"^(?:he|she|they|it|we|i|you|this|that|these|those|there|here|but|and|or|so|yet|then|now|still|also|instead|"
    r"one|some|all)(?:['’]\w+)?\b",
    re.IGNORECASE,
)
_QUOTE_OPEN = "\"'“‘«„「『"


def _names_something(candidate: str, text: str) -> bool:
    """A proper name in the candidate: a capitalised word past its first, or a first word the text capitalises
    mid-sentence elsewhere (not just because a sentence starts with it)."""
    words = re.findall(r"[^\W\d_][\w'’.-]*", candidate)
    if any(w[:1].isupper() and w != "I" for w in words[1:]):
        return True
    if words and words[0][:1].isupper():
        return re.search(rf"[\w,;] {re.escape(words[0])}\b", text) is not None
    return False


def _headline_candidates(text: str) -> list[tuple[int, str, bool]]:
    """(position, candidate, was cut) for the opening sentences: each whole, and each main clause."""
    out: list[tuple[int, str, bool]] = []
    position = 0
    for line in text.splitlines():
        for sentence in sentences(line):
            if position >= 10:
                return out
            sentence = DATELINE.sub("", sentence).strip()
            whole = sentence.rstrip(".。")
            if sentence and sentence[0] not in _QUOTE_OPEN:
                out.append((position, whole, False))
                cut_at = _CLAUSE_CUT.search(whole)
                if cut_at and not _SUBORDINATE.match(whole):
                    out.append((position, whole[: cut_at.start()].rstrip(" ,;:"), True))
            position += 1
    return out


def headline(text: str, limit: int = HEADLINE_MAX) -> str:
    """A headline a person could have written, drawn from the opening of ``text``: a whole sentence, or the
    main clause of one, of at most ``limit`` characters that names who or what the story is about.

    Earlier sentences win; a sentence that opens with a pronoun or a connective ("She", "But") or a quote, or
    that names nobody, only when nothing better is there. Never cut mid-sentence with an ellipsis, unless the
    text's sentences are all too long to use (then the opening, at a clause or word boundary).
    """
    best: tuple[float, str] | None = None
    for position, candidate, was_cut in _headline_candidates(text):
        words = candidate.split()
        if not (15 <= len(candidate) <= limit) or (len(words) < 3 and " " in candidate):
            continue
        score = 10.0 - position - (2 if was_cut else 0)
        score += 0.5 if _names_something(candidate, text) else 0  # breaks near-ties only: the lede comes first
        score -= 6 if _VAGUE.match(candidate) else 0
        if best is None or score > best[0]:
            best = (score, candidate)
    if best is not None:
        return best[1]
    opening = DATELINE.sub("", (sentences(text) or [""])[0]).strip()
    if len(opening) <= limit:
        return opening.rstrip(".。")
    window = opening[:limit]
    boundary = max((m.start() for m in re.finditer(r"(?<=\w)[,;:–—]\s|\s[–—-]\s", window)), default=-1)
    return window[:boundary].rstrip() if boundary >= 40 else cut(opening, limit)


def title_from_text(text: str, limit: int = HEADLINE_MAX) -> tuple[str, str]:
    """A title for a text article with no title line, and the body that is left.

    The first line is the title when it reads as a headline (and the body is the rest); otherwise
    :func:`headline` draws one from the opening sentences and the body keeps every line.
    """
    stripped = text.strip()
    first, _, rest = stripped.partition("\n")
    if _reads_as_headline(first.strip()) and rest.strip():
        return first.strip(), rest.strip()
    return headline(stripped, limit), stripped


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
