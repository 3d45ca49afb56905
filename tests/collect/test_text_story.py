"""A plain-text article becomes a story a reader is glad to get: a real headline, a summary that does not
repeat it, apostrophes lost in scraping put back where the text proves them, dated by the file."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

from digest.collect import collect
from digest.collect.article import text_date
from digest.collect.clean import headline, repair_apostrophes
from digest.collect.parse import parse_document
from digest.config import load
from digest.store import Store
from tests.support import NOW

# written for these tests: scraped text with its apostrophes lost and the site's furniture at the end
SCRAPED = """If anyone thought the harbour board had finally run out of patience with Mara Olsen and her late-night \
ferry schedule, and was about to replace her, they would be wrong. Shes staying on, the board said.

Mara Olsen was seen leaving the town hall on Monday with the board chair, smiling. Olsens critics had hoped \
the vote would go the other way.

According to a clerk who spoke with the Harbour Gazette, talks had gone on for weeks before the vote, long \
before Olsens decision to add a midnight crossing. "Theres no plan to change anything," the clerk said. \
"She didnt ask for a new contract and she doesnt need one."

The ferries will keep running until 1am. Commuters welcomed the news; the Olsens next door threw a party.

Top Tweets About The Story

Top Stories
"""


def test_a_scraped_text_gets_a_whole_sentence_naming_who_as_its_headline() -> None:
    [story] = parse_document(SCRAPED.encode()).stories
    # the opening sentence is too long, and begins "If ...": the next one that names who wins, whole
    assert story.title == "Mara Olsen was seen leaving the town hall on Monday with the board chair, smiling"
    assert "…" not in story.title
    assert story.summary.startswith("If anyone thought the harbour board")
    assert story.title not in story.summary
    assert "Top Tweets" not in story.body_text and "Top Stories" not in story.body_text


def test_lost_apostrophes_come_back_only_where_the_text_proves_them() -> None:
    [story] = parse_document(SCRAPED.encode()).stories
    body = story.body_text
    for repaired in ("She's staying on", "Olsen's critics", "before Olsen's decision", "There's no plan", "didn't ask"):
        assert repaired in body, repaired
    assert "doesn't need" in body
    assert "the Olsens next door" in body  # "the Olsens": a family, not a possessive
    assert "She's staying on" in story.summary


def test_apostrophes_are_not_invented_without_proof() -> None:
    # no lost contraction: "Kims" could be anything
    assert repair_apostrophes("Kim came. Kims focus is elsewhere.") == "Kim came. Kims focus is elsewhere."
    # apostrophes elsewhere in the text: the scraper kept them, so a bare "s" is meant
    kept = "It's late. Shes here. Kims focus is elsewhere. Kim said so."
    assert repair_apostrophes(kept) == kept
    # German "im" and French "dont" are words, not lost contractions
    assert repair_apostrophes("Er ist im Haus, dont la porte.") == "Er ist im Haus, dont la porte."
    # a name never used alone (no "Williams" stem) is not made a possessive; "its" and "were" never change
    assert (
        repair_apostrophes("Theres hope. Serena Williams won and its fine; we were glad.")
        == "There's hope. Serena Williams won and its fine; we were glad."
    )


def test_headline_takes_a_main_clause_and_never_an_ellipsis() -> None:
    assert headline(
        "NEW YORK (Reuters) - Oil prices fell sharply on Tuesday on oversupply concerns, while stocks "
        "across the globe rose for a seventh straight session after large overnight gains."
    ) == ("Oil prices fell sharply on Tuesday on oversupply concerns")
    # an opening pronoun does not say who: a later sentence that does wins
    assert headline("She left at dawn and nobody saw her go. Ada Byrne quit the council on Friday. More here.") == (
        "Ada Byrne quit the council on Friday"
    )


def test_a_text_article_is_dated_by_its_date_line_else_by_its_file(tmp_path: Path, initialised: Path) -> None:
    when, rest = text_date("Published: July 23, 2020\nThe body.")
    assert when == datetime(2020, 7, 23, tzinfo=UTC) and rest == "The body."
    assert text_date("The body.\nNot a date line 2020-01-01.")[0] is None
    folder = tmp_path / "articles"
    folder.mkdir()
    (folder / "scraped.txt").write_text(SCRAPED, encoding="utf-8")
    (folder / "dated.txt").write_text("2026-11-01\n\nThe ferry ran late again on Sunday. Nobody minded.\n")
    mtime = datetime(2026, 11, 20, 8, 30, tzinfo=UTC).timestamp()
    os.utime(folder / "scraped.txt", (mtime, mtime))
    config = load(initialised)
    with Store(config.db_path) as store:
        collect(store, config, [str(folder)], now=NOW)
        dates = {s.title: s.published_at for s in store.stories()}
    assert dates["Mara Olsen was seen leaving the town hall on Monday with the board chair, smiling"].startswith(
        "2026-11-20T08:30"
    )
    assert dates["The ferry ran late again on Sunday"].startswith("2026-11-01")
