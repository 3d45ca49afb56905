"""Queries ranking needs: the window's figures, texts of the few worth comparing, pins, send history.

The window query returns plain numeric tuples (no text) so that ranking 100,000 stories stays cheap;
texts are read only for the pool of stories that near-duplicate detection compares.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any

from digest.models import StoryDetails, iso, parse_iso
from digest.store.base import QueryBase, loads
from digest.store.sources import DISPLAY_NAME

# Columns of :meth:`RankQueries.rank_window`, in order.
WINDOW_COLUMNS = ("id", "source_id", "weight", "age_hours", "undated", "engagement", "pinned", "hint")

_TEXT = "substr(CASE WHEN s.summary != '' THEN s.summary ELSE s.body_text END, 1, 400)"


class RankQueries(QueryBase):
    def rank_window(
        self,
        since: datetime,
        until: datetime,
        *,
        extra_ids: Iterable[int] = (),
        pinned_ids: Iterable[int] = (),
        hint_terms: Iterable[str] = (),
        chunk: int = 50_000,
    ) -> Iterator[list[tuple[float, ...]]]:
        """Numeric figures of every story published in ``[since, until]``, in ``pinned_ids`` or in ``extra_ids``.

        Yields lists of at most ``chunk`` tuples, one per story, columns as :data:`WINDOW_COLUMNS`:
        ``age_hours`` as of ``until``;
        ``undated`` is 1 when the date cannot be trusted (missing or in the future, so collection set
        it to the collection time); ``engagement`` sums ``comments`` and the figures in
        ``engagement``; ``pinned`` is 1 for ``pinned_ids`` (one list's pins); ``hint`` is 1 when the title or
        text contains one of ``hint_terms`` (lower-case, a cheap pre-filter for keyword boosts). Stories dated
        after ``until`` are left out unless pinned.
        """
        terms = [t.lower() for t in hint_terms if t]
        hint = " OR ".join(["instr(lower(s.title || ' ' || " + _TEXT + "), ?) > 0"] * len(terms)) or "0"
        sql = (
            "WITH picked AS (SELECT id FROM stories WHERE published_at >= ? AND published_at <= ?"
            " UNION SELECT value FROM json_each(?)"
            " UNION SELECT value FROM json_each(?))"
            " SELECT s.id, coalesce(s.source_id, 0), coalesce(src.weight, 1.0),"
            " (julianday(?) - julianday(s.published_at)) * 24.0,"
            " s.published_at >= s.collected_at,"
            " coalesce(s.comments, 0) + CASE WHEN s.engagement IN ('{}', '') THEN 0 ELSE coalesce("
            "(SELECT sum(value) FROM json_each(s.engagement) WHERE type IN ('integer', 'real')), 0) END,"
            " s.id IN (SELECT value FROM json_each(?)),"
            f" {hint}"
            " FROM stories s JOIN picked ON picked.id = s.id LEFT JOIN sources src ON src.id = s.source_id"
            " ORDER BY s.id"
        )
        extra = json.dumps(sorted(set(extra_ids)))
        pins = json.dumps(sorted(set(pinned_ids)))
        params = (iso(since), iso(until), pins, extra, iso(until), pins, *terms)
        cursor = self.conn.execute(sql, params)
        while rows := cursor.fetchmany(chunk):
            yield rows

    def rank_texts(self, ids: Iterable[int]) -> dict[int, tuple[str, str, str, str, str, int]]:
        """``id -> (title, lead text, tags JSON, published_at, URL, length of all text)`` of the stories
        that near-duplicate detection compares."""
        rows = self.conn.execute(
            f"SELECT s.id, s.title, {_TEXT}, s.tags, s.published_at, coalesce(s.url, ''),"
            " length(s.summary) + length(s.body_text) FROM stories s"
            " WHERE s.id IN (SELECT value FROM json_each(?))",
            (json.dumps(sorted(set(ids))),),
        )
        return {r[0]: r[1:] for r in rows}

    def rank_details(self, ids: Iterable[int]) -> dict[int, StoryDetails]:
        """What an explanation shows of a story: title, URL, source, dates and engagement figures."""
        rows = self.rows(
            f"SELECT s.id, s.title, s.url, s.published_at, s.comments, s.engagement, {DISPLAY_NAME} AS source"
            " FROM stories s LEFT JOIN sources ON sources.id = s.source_id"
            " WHERE s.id IN (SELECT value FROM json_each(?))",
            (json.dumps(sorted(set(ids))),),
        )
        return {r["id"]: StoryDetails(**r | {"engagement": loads(r["engagement"], {})}) for r in rows}

    def newest_story(self, until: datetime) -> tuple[int, datetime] | None:
        """``(id, published_at)`` of the most recent story dated ``until`` or earlier."""
        row = self.conn.execute(
            "SELECT id, published_at FROM stories WHERE published_at <= ? ORDER BY published_at DESC, id DESC LIMIT 1",
            (iso(until),),
        ).fetchone()
        return (int(row[0]), parse_iso(row[1]) or until) if row else None

    def source_names(self) -> dict[int, str]:
        return {r[0]: r[1] for r in self.conn.execute(f"SELECT id, {DISPLAY_NAME} FROM sources")}

    def set_pick(self, list_id: int, story_id: int, pick: str | None) -> None:
        """Pin (``"pin"``) or drop (``"drop"``) a story for one list, or clear either (``None``); a pin replaces a
        drop and the other way round. ``stories.pinned`` follows: pinned on some list."""
        self.story(story_id)  # type: ignore[attr-defined]
        with self.transaction():
            if pick is None:
                self.conn.execute("DELETE FROM list_picks WHERE list_id = ? AND story_id = ?", (list_id, story_id))
            else:
                self.conn.execute(
                    "INSERT INTO list_picks(list_id, story_id, pick) VALUES (?, ?, ?)"
                    " ON CONFLICT(list_id, story_id) DO UPDATE SET pick = excluded.pick",
                    (list_id, story_id, pick),
                )
            self.conn.execute(
                "UPDATE stories SET pinned = EXISTS (SELECT 1 FROM list_picks WHERE story_id = ? AND pick = 'pin')"
                " WHERE id = ?",
                (story_id, story_id),
            )

    def list_picks(self, list_id: int) -> dict[int, str]:
        """``story_id -> "pin" | "drop"``: what the editor pinned and dropped for one list."""
        rows = self.conn.execute(
            "SELECT story_id, pick FROM list_picks WHERE list_id = ? ORDER BY story_id", (list_id,)
        )
        return {int(r[0]): str(r[1]) for r in rows}

    def sent_history(self, list_id: int, before_date: str, since_date: str | None = None) -> dict[int, tuple[int, str]]:
        """``story_id -> (edition id, date)`` for stories that went out in another edition of the list.

        An edition "went out" once it has a send that did not fail; the latest such edition wins. Editions
        dated after ``before_date`` count too: a clock or timezone that moved back must not repeat them.
        """
        sql = (
            "SELECT es.story_id, e.id, e.date FROM edition_stories es JOIN editions e ON e.id = es.edition_id"
            " WHERE e.list_id = ? AND e.date != ?"
            " AND EXISTS (SELECT 1 FROM sends WHERE sends.edition_id = e.id AND sends.status != 'failed')"
        )
        params: list[Any] = [list_id, before_date]
        if since_date is not None:
            sql += " AND e.date >= ?"
            params.append(since_date)
        out: dict[int, tuple[int, str]] = {}
        for story_id, edition_id, date in self.conn.execute(sql + " ORDER BY e.date, e.id", params):
            out[story_id] = (edition_id, date)
        return out
