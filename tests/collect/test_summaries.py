"""Summaries a reader is glad to get: no site furniture (in many languages), no line every item repeats, never
only punctuation, blocks kept apart, and 2–3 sentences of the text when the feed gives no summary."""

from __future__ import annotations

import html
import re

import pytest

from digest.collect import parse_safely
from digest.collect.clean import html_to_text, strip_site_boilerplate
from digest.collect.parse import parse_document
from tests.support import CORPUS, need_shared
from tests.support.collect import rss

LEAD = "The harbour ferry will run until midnight from Monday."
# (what a site appends, as feeds write it) — every one must go, and the lead stay
FURNITURE = [
    "The post Ferry hours extended appeared first on Harbour Gazette.",
    "… Read More Here →",
    "Read the full story at The Verge",
    "Read the full article on Harbour Gazette »",
    "© 2024 TechCrunch. All rights reserved. For personal use only.",
    "Copyright © 2023 Harbour Gazette. All rights reserved.",
    "Continue reading…",
    "Continue reading “Ferry hours extended”",
    "Read more of this story at Slashdot.",
    "[…]",
    "Der Beitrag Fähre fährt länger erschien zuerst auf Hafenblatt.",
    "Weiterlesen",
    "Weiterlesen »",
    "L’article Le ferry circule plus tard est apparu en premier sur La Gazette.",
    "Lire la suite",
    "La entrada El ferry amplía su horario se publicó primero en La Gaceta.",
    "Leer más",
    "Seguir leyendo",
    "O post Balsa funciona até meia-noite apareceu primeiro em Gazeta.",
    "Leia mais",
    "Continua a leggere",
    "Lees meer",
    "Czytaj dalej",
    "Читать далее",
    "続きを読む",
    "阅读全文",
    "(more…)",
    "This article originally appeared on Harbour Gazette.",
]
PATTERN = re.compile(
    r"appeared first on|Read More|Read the full|For personal use only|All rights reserved|Continue reading|"
    r"Weiterlesen|Lire la suite|Leer más|Leia mais|erschien zuerst|apparu en premier|publicó primero|"
    r"apareceu primeiro|Seguir leyendo|Continua a leggere|Lees meer|Czytaj dalej|Читать далее|続きを読む|阅读全文|"
    r"\(more…\)|originally appeared|\[…\]|©",
    re.IGNORECASE,
)


@pytest.mark.parametrize("furniture", FURNITURE)
def test_site_furniture_is_cut_from_a_paragraph_or_dropped_as_one(furniture: str) -> None:
    assert strip_site_boilerplate(f"{LEAD} {furniture}").rstrip("…") == LEAD
    assert strip_site_boilerplate(f"{LEAD}\n\n{furniture}") == LEAD
    [story] = parse_document(
        rss([{"title": "Ferry", "description": html.escape(f"<p>{LEAD}</p><p>{furniture}</p>")}]).encode()
    ).stories
    assert story.summary == LEAD and not PATTERN.search(story.summary)


def test_furniture_words_inside_a_sentence_stay() -> None:
    text = "She said she would read more books this year. Continue reading the plan, the mayor told the council."
    assert strip_site_boilerplate(text) == text


def test_a_line_every_item_repeats_is_left_out_of_summaries() -> None:
    signature = "Follow the Harbour Gazette on Mastodon for more ferry news every day"
    items = [
        {"title": f"Story {i}", "description": html.escape(f"<p>Ferry news number {i} is here.</p><p>{signature}</p>")}
        for i in range(4)
    ]
    stories = parse_document(rss(items).encode()).stories
    assert [s.summary for s in stories] == [f"Ferry news number {i} is here." for i in range(4)]
    # two items are not enough to call a line furniture
    two = parse_document(rss(items[:2]).encode()).stories
    assert all(signature in s.summary for s in two)


def test_a_punctuation_only_summary_is_dropped_and_blocks_keep_a_space() -> None:
    items = [
        {"title": "Dot", "description": "."},
        {
            "title": "Glued",
            "description": html.escape(
                "<figure><figcaption>Works wonderfully.</figcaption></figure><p>There's more.</p>"
            ),
        },
    ]
    dot, glued = parse_document(rss(items).encode()).stories
    assert dot.summary == ""
    assert glued.summary == "Works wonderfully. There's more."
    assert html_to_text("<td>a</td><td>b</td>") == "a b"


def test_without_a_summary_the_story_gets_two_or_three_sentences_of_its_text() -> None:
    body = "<p>One ferry ran late. Two ferries ran early.</p><p>Three ran on time. Four were cancelled. Five sank.</p>"
    item = {"title": "Ferries", "content:encoded": f"<![CDATA[{body}]]>"}
    doc = rss([item], extra_ns='xmlns:content="http://purl.org/rss/1.0/modules/content/"')
    [story] = parse_document(doc.encode()).stories
    assert story.summary == "One ferry ran late. Two ferries ran early. Three ran on time."


def test_no_corpus_story_summary_holds_site_furniture() -> None:
    need_shared(CORPUS)
    found, checked = [], 0
    for path in sorted((CORPUS / "feeds").rglob("*.*")) + sorted((CORPUS / "articles").rglob("*.*")):
        if path.suffix in (".csv", ".md"):
            continue
        doc, _ = parse_safely(path.read_bytes(), None)
        for story in doc.stories if doc else []:
            checked += 1
            if PATTERN.search(story.summary) or (story.summary and not re.search(r"\w", story.summary)):
                found.append((path.name, story.summary[-100:]))
            if re.search(r"[a-z]{2}[.!?][A-Z][a-z]+\b", story.summary):
                found.append((path.name, story.summary[-100:]))
    assert checked > 200 and found == []
