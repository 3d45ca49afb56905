"""Variants of a day's edition: what readers who chose topics, or once a week, get instead of the whole edition.

Readers are grouped by their :class:`~digest.models.Choice` (topics, daily or weekly); each distinct choice is one
variant of the day's edition, frozen and rendered once (never once per reader), built the first time the send
meets a reader with that choice and kept like the edition:

* **Topics** are the sources' tags: a topics variant is the day's edition ranked again over the stories of the
  sources with one of those tags only, never repeating what an earlier variant for the same choice held. On a
  list with ``require_approval`` it is the approved edition's own stories of those topics instead (nothing the
  editor did not see goes out under their approval).
* **Weekly** readers get the week's best on the list's weekly day (its ``weekday``, else Monday): the stories of
  the list's daily editions and daily variants of the seven days up to this one (of their topics' sources, if
  they chose topics), best score first, without what an earlier weekly variant for the same choice held.
* Topics **no source has** (an import's own tags, a tag since removed) are no choice: a reader left with none gets
  the whole list.
* The editor's desk holds: a story dropped or swapped out of the edition is in no variant, an edited one reads as
  edited.
* A variant with **no stories** is not built: its readers get nothing from that edition (they chose those topics;
  the whole list is not what they asked for) and the send's report says how many and why, in ``notes``.

The ledger stays one row per reader and day (the day's edition's, naming the variant), so a reader gets one
variant once, whatever re-runs, crashes or changes of mind happen between them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date as date_type
from datetime import timedelta
from typing import Any

from digest import clock, desk
from digest.config import Config
from digest.errors import TemplateError
from digest.models import Choice, Edition, MailingList, Rendered, parse_iso
from digest.rank import rank
from digest.render import make_context, render_context, render_edition, render_variant
from digest.store import Store
from digest.store.editions import SNAPSHOT_FIELDS

WEEK_DAYS = 7


def topic_sources(store: Store, list_row: MailingList, topics: tuple[str, ...]) -> frozenset[int]:
    """The ids of the sources with at least one of ``topics`` among their tags, within the list's own scope."""
    chosen = store.scope_source_ids((), topics) or frozenset()
    scope = store.scope_source_ids(list_row.sources, list_row.tags)
    return chosen if scope is None else chosen & scope


def build_variant(store: Store, config: Config, edition_id: int, choice: Choice) -> tuple[int, Rendered] | None:
    """The variant of the edition for readers of ``choice`` and its artefact: the kept one, else ranked, frozen and
    rendered once. None when it would hold no story (nothing is stored: a later run may find some)."""
    kept = store.find_variant(edition_id, choice.key)
    if kept is not None:
        return kept.id, render_variant(store, config, kept.id)
    edition = store.edition(edition_id)
    list_row = store.list_by_id(edition.list_id)
    sources = topic_sources(store, list_row, choice.topics) if choice.topics else None
    if sources is not None and not sources:
        return None
    if choice.frequency == "weekly":
        picks = _week_best(store, config, edition, choice, sources)
    elif list_row.require_approval:
        picks = _approved(store, edition_id, sources)
    else:
        picks = _ranked(store, config, edition, list_row, choice, sources)
    picks = _as_edited(store, edition_id, picks)
    if not picks:
        return None
    try:
        return _freeze(store, config, edition_id, choice, picks)
    except TemplateError:  # one story's text must not stop the variant: leave out those that cannot render
        good = [p for p in picks if _renders(config, list_row, edition, [p])]
        if not good or len(good) == len(picks):
            raise
        return _freeze(store, config, edition_id, choice, good)


def _approved(store: Store, edition_id: int, sources: frozenset[int] | None) -> list[dict[str, Any]]:
    """On a list whose editor approves each edition, a topics variant is the approved edition's own stories of
    those topics, in the editor's order: nothing they did not see goes out under their approval."""
    picks = store.edition_picks(edition_id)
    if sources is None:
        return picks
    return [p for p in picks if store.story(p["story_id"]).source_id in sources]


def _as_edited(store: Store, edition_id: int, picks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The editor's word holds in every variant: a story taken out of the edition on the desk stays out, and one
    whose title or blurb they edited reads as edited."""
    out = desk.removed_stories(store.edition_changes(edition_id))
    edited = {p["story_id"]: p["snapshot"] for p in store.edition_picks(edition_id)}
    return [p | {"snapshot": edited.get(p["story_id"], p["snapshot"])} for p in picks if p["story_id"] not in out]


def _freeze(
    store: Store, config: Config, edition_id: int, choice: Choice, picks: list[dict[str, Any]]
) -> tuple[int, Rendered]:
    """Freeze and render once, in one transaction: a variant that does not render is not left behind."""
    with store.transaction(immediate=True):
        variant_id = store.freeze_variant(edition_id, choice.key, choice.topics, choice.frequency, picks)
        return variant_id, render_variant(store, config, variant_id)


def _ranked(
    store: Store,
    config: Config,
    edition: Edition,
    list_row: MailingList,
    choice: Choice,
    sources: frozenset[int] | None,
) -> list[dict[str, Any]]:
    """The day's edition ranked again as of when it was built, over the chosen topics' sources only."""
    settings = config.settings.rank
    now = parse_iso(edition.now) or clock.now()
    since = (date_type.fromisoformat(edition.date) - timedelta(days=settings.history_days)).isoformat()
    history = store.variant_history(list_row.id, choice.key, edition.date, since)
    result = rank(store, settings, now, list_row, date=edition.date, source_ids=sources, history=history)
    out = []
    for r in result.picked:
        story = store.story(r.story_id).as_dict()
        snapshot = {k: story.get(k) for k in SNAPSHOT_FIELDS}
        out.append({"story_id": r.story_id, "score": r.score, "why": r.why, "also": r.also, "snapshot": snapshot})
    return out


def _week_best(
    store: Store, config: Config, edition: Edition, choice: Choice, sources: frozenset[int] | None
) -> list[dict[str, Any]]:
    """The best stories of the list's daily history over the week up to the edition's date (each once, at its best
    score), of the chosen topics' sources, without what an earlier weekly variant for this choice held."""
    day = date_type.fromisoformat(edition.date)
    since = (day - timedelta(days=WEEK_DAYS - 1)).isoformat()
    got = store.variant_history(
        edition.list_id, choice.key, edition.date, (day - timedelta(days=config.settings.rank.history_days)).isoformat()
    )
    allowed = set(sources) if sources is not None else None
    best: dict[int, dict[str, Any]] = {}
    for row in store.daily_picks(edition.list_id, since, edition.date):
        if row["story_id"] in got or (allowed is not None and row["source_id"] not in allowed):
            continue
        if row["story_id"] not in best or row["score"] > best[row["story_id"]]["score"]:
            best[row["story_id"]] = row
    ordered = sorted(best.values(), key=lambda r: (-r["score"], r["story_id"]))
    return ordered[: max(config.settings.rank.max_stories, 1)]


def _renders(config: Config, list_row: MailingList, edition: Edition, picks: list[dict[str, Any]]) -> bool:
    stories = [
        {"story_id": p["story_id"], "rank": 0, "score": p["score"], "why": p["why"], "also": p["also"]}
        | {"summary": "", "body_text": ""}
        | p["snapshot"]
        for p in picks
    ]
    try:
        render_context(config, make_context(config, list_row, edition.id, edition.date, stories))
    except TemplateError:
        return False
    return True


@dataclass
class EditionVariants:
    """The variants of one edition, as the send asks for them (:class:`digest.send.Variants`): each choice's
    variant built and rendered the first time, then reused; ``built`` names the choices this run built."""

    store: Store
    config: Config
    edition_id: int
    built: list[Choice] = field(default_factory=list)
    known: set[str] | None = None  # every source's tags, read once

    def for_choice(self, choice: Choice) -> tuple[int | None, Rendered] | None:
        if self.known is None:
            self.known = {tag.casefold() for source in self.store.sources() for tag in source.tags}
        # a topic no source has (an import's own tags, a tag since removed) is no choice: what is left of them counts
        choice = Choice(tuple(t for t in choice.topics if t.casefold() in self.known), choice.frequency)
        if not choice.key:
            return None, render_edition(self.store, self.config, self.edition_id)  # kept: no compile
        kept = self.store.find_variant(self.edition_id, choice.key) is not None
        found = build_variant(self.store, self.config, self.edition_id, choice)
        if found is not None and not kept:
            self.built.append(choice)
        return found

    def rendered(self, variant_id: int) -> Rendered:
        return render_variant(self.store, self.config, variant_id)
