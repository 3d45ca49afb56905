"""Queries on variants: one per distinct reader choice (topics, frequency) of a day's edition.

A variant is frozen like an edition (its stories' snapshots) and rendered once (``variant_renditions``).
The ledger keeps one row per reader and day on the day's edition; ``sends.variant_id`` says which variant went.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from digest import clock
from digest.models import Due, EditionStory, Rendered, Variant, iso
from digest.store.base import QueryBase, dumps, loads
from digest.store.sends import _NO_PAUSE, _due_params
from digest.store.sources import READER_NAME

_VARIANT = "SELECT id, edition_id, key, topics, frequency, built_at FROM variants"


def _variant(row: dict[str, Any]) -> Variant:
    return Variant(**row | {"topics": tuple(loads(row["topics"], []))})


class VariantQueries(QueryBase):
    _new_batch: Callable[..., int]  # from SendQueries, which Store mixes in
    _owed_new_sql: Callable[..., str]

    # -- frozen variants ---------------------------------------------------------------
    def freeze_variant(
        self, edition_id: int, key: str, topics: Sequence[str], frequency: str, stories: Sequence[dict[str, Any]]
    ) -> int:
        """Freeze a variant of the edition: ``stories`` (in rank order) each with ``story_id``, ``score``, ``why``,
        ``also`` and ``snapshot`` (the story's fields as they were). A variant with that key is replaced."""
        with self.transaction(immediate=True):
            self.conn.execute("DELETE FROM variants WHERE edition_id = ? AND key = ?", (edition_id, key))
            cur = self.conn.execute(
                "INSERT INTO variants(edition_id, key, topics, frequency, built_at) VALUES (?, ?, ?, ?, ?)",
                (edition_id, key, dumps(list(topics)), frequency, iso(clock.now())),
            )
            variant_id = int(cur.lastrowid or 0)
            self.conn.executemany(
                "INSERT INTO variant_stories(variant_id, rank, story_id, score, why, also, snapshot)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                [
                    (variant_id, i, s["story_id"], s["score"], dumps(s["why"]), dumps(s["also"]), dumps(s["snapshot"]))
                    for i, s in enumerate(stories, 1)
                ],
            )
        return variant_id

    def drop_variants(self, edition_id: int) -> None:
        """Forget the edition's variants (it is being rebuilt: nothing was sent from it)."""
        self.conn.execute("DELETE FROM variants WHERE edition_id = ?", (edition_id,))

    def variant(self, variant_id: int) -> Variant | None:
        found = self.row(_VARIANT + " WHERE id = ?", (variant_id,))
        return _variant(found) if found else None

    def find_variant(self, edition_id: int, key: str) -> Variant | None:
        found = self.row(_VARIANT + " WHERE edition_id = ? AND key = ?", (edition_id, key))
        return _variant(found) if found else None

    def variants(self, edition_id: int) -> list[Variant]:
        return [_variant(r) for r in self.rows(_VARIANT + " WHERE edition_id = ? ORDER BY id", (edition_id,))]

    def variant_stories(self, variant_id: int) -> list[EditionStory]:
        """The frozen stories of a variant, in rank order, as they were when it was built."""
        rows = self.rows(
            "SELECT vs.rank, vs.score, vs.why, vs.also, vs.snapshot, stories.id AS story_id, stories.title,"
            " stories.url, stories.summary, stories.body_text, stories.image_url, stories.author, stories.published_at,"
            f" stories.language, {READER_NAME} AS source FROM variant_stories vs"
            " JOIN stories ON stories.id = vs.story_id LEFT JOIN sources ON sources.id = stories.source_id"
            " WHERE vs.variant_id = ? ORDER BY vs.rank",
            (variant_id,),
        )
        out = []
        for r in rows:
            snapshot = loads(r.pop("snapshot"), {})
            r.update({k: v for k, v in snapshot.items() if k in r and k not in ("source", "story_id", "rank")})
            out.append(EditionStory(**r | {"why": loads(r["why"], {}), "also": loads(r["also"], [])}))
        return out

    def variant_story(self, edition_id: int, story_id: int) -> EditionStory | None:
        """The story as one of the edition's variants holds it (the first that does), or None."""
        for variant_id in [
            r[0]
            for r in self.conn.execute(
                "SELECT DISTINCT v.id FROM variants v JOIN variant_stories vs ON vs.variant_id = v.id"
                " WHERE v.edition_id = ? AND vs.story_id = ? ORDER BY v.id LIMIT 1",
                (edition_id, story_id),
            )
        ]:
            return next((s for s in self.variant_stories(variant_id) if s.story_id == story_id), None)
        return None

    def variant_history(self, list_id: int, key: str, before_date: str, since_date: str) -> dict[int, tuple[int, str]]:
        """``story_id -> (edition id, date)`` of the stories in earlier variants of the list with this ``key``:
        what readers of that choice already got."""
        out: dict[int, tuple[int, str]] = {}
        for story_id, edition_id, date in self.conn.execute(
            "SELECT vs.story_id, e.id, e.date FROM variant_stories vs JOIN variants v ON v.id = vs.variant_id"
            " JOIN editions e ON e.id = v.edition_id WHERE e.list_id = ? AND v.key = ? AND e.date != ?"
            " AND e.date >= ? ORDER BY e.date, e.id",
            (list_id, key, before_date, since_date),
        ):
            out[story_id] = (edition_id, date)
        return out

    def daily_picks(self, list_id: int, since_date: str, until_date: str) -> list[dict[str, Any]]:
        """Every story frozen in the list's daily editions and daily variants dated ``since_date`` to ``until_date``
        (the week a weekly variant picks from): story_id, source_id, score, why, also, snapshot (parsed)."""
        rows = self.rows(
            "SELECT es.story_id, coalesce(st.source_id, 0) AS source_id, es.score, es.why, es.also, es.snapshot"
            " FROM edition_stories es JOIN editions e ON e.id = es.edition_id JOIN stories st ON st.id = es.story_id"
            " WHERE e.list_id = ? AND e.date >= ? AND e.date <= ?"
            " UNION ALL SELECT vs.story_id, coalesce(st.source_id, 0), vs.score, vs.why, vs.also, vs.snapshot"
            " FROM variant_stories vs JOIN variants v ON v.id = vs.variant_id JOIN editions e ON e.id = v.edition_id"
            " JOIN stories st ON st.id = vs.story_id"
            " WHERE e.list_id = ? AND e.date >= ? AND e.date <= ? AND v.frequency = 'daily'",
            (list_id, since_date, until_date, list_id, since_date, until_date),
        )
        return [
            r | {"why": loads(r["why"], {}), "also": loads(r["also"], []), "snapshot": loads(r["snapshot"], {})}
            for r in rows
        ]

    # -- renditions ----------------------------------------------------------------------
    def variant_rendition(self, variant_id: int, stamp: str) -> Rendered | None:
        """The variant's kept artefact if it was rendered from what ``stamp`` names, else None."""
        row = self.conn.execute(
            "SELECT subject, preheader, html, text, mjml FROM variant_renditions WHERE variant_id = ? AND stamp = ?",
            (variant_id, stamp),
        ).fetchone()
        if row is None:
            return None
        subject, preheader, html, text, mjml = row
        return Rendered(subject=subject, preheader=preheader, html=html, text=text, mjml=mjml, stamp=stamp)

    def keep_variant_rendition(self, variant_id: int, rendered: Rendered) -> None:
        self.conn.execute(
            "INSERT INTO variant_renditions(variant_id, stamp, subject, preheader, html, text, mjml, rendered_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(variant_id) DO UPDATE SET stamp = excluded.stamp,"
            " subject = excluded.subject, preheader = excluded.preheader, html = excluded.html,"
            " text = excluded.text, mjml = excluded.mjml, rendered_at = excluded.rendered_at",
            (
                variant_id,
                rendered.stamp,
                rendered.subject,
                rendered.preheader,
                rendered.html,
                rendered.text,
                rendered.mjml,
                iso(clock.now()),
            ),
        )

    # -- readers' choices and the ledger -----------------------------------------------------
    def has_choices(self, list_id: int, active: Sequence[str]) -> bool:
        """Whether anyone on the list (in an ``active`` status) chose topics or a frequency."""
        return bool(
            self.scalar(
                "SELECT 1 FROM subscriptions sub JOIN subscribers s ON s.id = sub.subscriber_id"
                f" WHERE sub.list_id = ? AND sub.status IN ({', '.join('?' * len(active))})"
                " AND s.attributes != '{}' AND (json_extract(s.attributes, '$.topics') IS NOT NULL"
                " OR json_extract(s.attributes, '$.frequency') IS NOT NULL) LIMIT 1",
                (list_id, *active),
            )
        )

    def owed_with_choices(
        self,
        list_id: int,
        edition_id: int,
        active: Sequence[str],
        after: int,
        chunk: int,
        day: str = "",
        due: Due | None = None,
    ) -> list[tuple[int, str, str, Any, Any]]:
        """The next ``chunk`` people owed the edition (id above ``after``, the walk of :meth:`owed_new`, ``due``
        included), each with their choice: (subscriber_id, email, name, topics JSON or None, frequency or None)."""
        sql = self._owed_new_sql(active, due)
        return self.conn.execute(
            "SELECT o.id, o.email, o.name, json_extract(s.attributes, '$.topics'),"
            f" json_extract(s.attributes, '$.frequency') FROM ({sql}) o CROSS JOIN subscribers s ON s.id = o.id"
            " ORDER BY o.id",
            (list_id, after, *active, day or _NO_PAUSE, edition_id, *_due_params(due), chunk),
        ).fetchall()

    def claim_rows(
        self,
        edition_id: int,
        provider: str,
        rows: Sequence[tuple[int, str, str]],
        variant_id: int | None,
        run_id: str | None = None,
        *,
        list_id: int,
        active: Sequence[str],
        day: str = "",
    ) -> tuple[int, list[tuple[int, str, str]]] | None:
        """Write ``rows`` (subscriber_id, email, name) as one batch in flight of the edition, getting the variant
        ``variant_id``; a reader who already has a row for the edition (any variant), or who is no longer receiving
        the list (``active`` statuses, not pausing it on ``day``) is left out. Returns the batch id and the rows it
        holds, or None if it holds none.

        The rows were read a while ago (a variant's batch fills up over the walk), so whether each reader still
        receives is decided again here, in the transaction that writes them: someone who left meanwhile is
        never mailed."""
        now = iso(clock.now())
        statuses = ", ".join("?" * len(active))
        with self.transaction(immediate=True, durable=True):  # on disk before the request leaves
            batch_id = self._new_batch(edition_id, provider, len(rows), now, run_id)
            # one statement over the ids (JSON), not one per row: the walk already read each row's address
            cur = self.conn.execute(
                "INSERT INTO sends(edition_id, subscriber_id, email, batch_id, status, created_at, updated_at,"
                " variant_id) SELECT ?, s.id, s.email, ?, 'in_flight', ?, ?, ? FROM json_each(?) j"
                " JOIN subscribers s ON s.id = j.value"
                " JOIN subscriptions sub ON sub.subscriber_id = s.id AND sub.list_id = ?"
                f" WHERE sub.status IN ({statuses}) AND (sub.paused_until IS NULL OR sub.paused_until <= ?)"
                " ON CONFLICT(edition_id, subscriber_id) DO NOTHING",
                (
                    *(edition_id, batch_id, now, now, variant_id, json.dumps([r[0] for r in rows])),
                    *(list_id, *active, day or _NO_PAUSE),
                ),
            )
            if cur.rowcount == len(rows):
                return batch_id, list(rows)
            taken = {r[0] for r in self.conn.execute("SELECT subscriber_id FROM sends WHERE batch_id = ?", (batch_id,))}
            if not taken:
                self.conn.execute("DELETE FROM send_batches WHERE id = ?", (batch_id,))
                return None
            self.conn.execute("UPDATE send_batches SET size = ? WHERE id = ?", (len(taken), batch_id))
        return batch_id, [r for r in rows if r[0] in taken]

    def send_variants(self, edition_id: int, subscriber_ids: Iterable[int]) -> dict[int, int | None]:
        """subscriber_id -> the variant their ledger row of the edition names (None: the whole edition)."""
        return dict(
            self.conn.execute(
                "SELECT subscriber_id, variant_id FROM sends WHERE edition_id = ?"
                " AND subscriber_id IN (SELECT value FROM json_each(?))",
                (edition_id, json.dumps(list(subscriber_ids))),
            ).fetchall()
        )
