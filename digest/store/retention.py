"""Retention: an old edition's per-reader rows (its ledger, its delivery events) folded into its counts.

The ledger (``sends``) and the provider's events take ~180 bytes per reader per edition. Once an edition is
older than ``[store] retention_days``, what ``digest stats`` shows of it is kept as counts in
``edition_totals`` and its per-reader rows are deleted, except the events that are evidence of consent and
deliverability (bounces, drops, unsubscribes, spam reports), which stay as they are, with whom and when.
A folded edition is never sent again: without its ledger, nobody could tell who already had it.
"""

from __future__ import annotations

from digest.models import Retention
from digest.store.base import QueryBase

# kept whatever their age: who unsubscribed, complained, bounced or was dropped, and when (consent, audits)
KEPT_EVENTS = ("bounce", "dropped", "unsubscribe", "group_unsubscribe", "spamreport")
# folded into edition_totals as distinct people (what stats shows of them)
FOLDED_EVENTS = {"delivered": ("delivered",), "opened": ("open",), "clicked": ("click",)}
_KEPT = ", ".join(f"'{e}'" for e in KEPT_EVENTS)


class RetentionQueries(QueryBase):
    def _foldable(self, before: str) -> list[int]:
        return [
            int(r[0])
            for r in self.conn.execute(
                "SELECT e.id FROM editions e WHERE e.date < ? AND (EXISTS (SELECT 1 FROM sends s WHERE"
                f" s.edition_id = e.id) OR EXISTS (SELECT 1 FROM events v WHERE v.edition_id = e.id AND v.event NOT IN"
                f" ({_KEPT}))) ORDER BY e.id",
                (before,),
            )
        ]

    def retention(self, before: str) -> Retention:
        """What folding every edition dated before ``before`` would free (nothing is changed)."""
        ids = self._foldable(before)
        marks = ", ".join("?" * len(ids))
        sends = events = 0
        if ids:
            sends = int(self.scalar(f"SELECT count(*) FROM sends WHERE edition_id IN ({marks})", ids))
            events = int(
                self.scalar(
                    f"SELECT count(*) FROM events WHERE edition_id IN ({marks}) AND event NOT IN ({_KEPT})", ids
                )
            )
        return Retention(before, len(ids), sends, events, self._estimate(sends, events))

    def _estimate(self, sends: int, events: int) -> int | None:
        """Bytes those rows hold: each table's pages (and its indexes') in proportion to the rows that go."""
        try:
            sizes = dict(
                self.conn.execute(
                    "SELECT m.tbl_name, sum(d.pgsize) FROM dbstat d JOIN sqlite_master m ON m.name = d.name"
                    " WHERE m.tbl_name IN ('sends', 'events') GROUP BY m.tbl_name"
                ).fetchall()
            )
        except Exception:  # noqa: BLE001 - SQLite built without the dbstat table: rows only
            return None
        total = 0
        for table, going in (("sends", sends), ("events", events)):
            rows = int(self.scalar(f"SELECT count(*) FROM {table}"))
            if rows and going:
                total += int(sizes.get(table, 0) * going / rows)
        return total

    def store_bytes(self) -> int:
        """The store's size on disk: its pages (the WAL beside it is not counted)."""
        return int(self.scalar("PRAGMA page_count")) * int(self.scalar("PRAGMA page_size"))

    def fold_editions(self, before: str, now: str) -> Retention:
        """Fold every edition dated before ``before``: its counts kept in ``edition_totals``, its per-reader rows
        deleted (but the events kept for consent and audits). One transaction; safe to repeat."""
        with self.transaction(immediate=True):
            freed = self.retention(before)
            for edition_id in self._foldable(before):
                self._fold(edition_id, now)
        return freed

    def _fold(self, edition_id: int, now: str) -> None:
        def people(*names: str) -> str:
            marks = ", ".join(f"'{n}'" for n in names)
            return (
                "(SELECT count(DISTINCT coalesce(subscriber_id, email)) FROM events"
                f" WHERE edition_id = :e AND event IN ({marks}))"
            )

        ledger = "(SELECT count(*) FROM sends WHERE edition_id = :e AND status = '{}')"
        columns = ["sent", "failed", "unknown", *FOLDED_EVENTS]
        values = [ledger.format(s) for s in ("sent", "failed", "unknown")]
        values += [people(*names) for names in FOLDED_EVENTS.values()]
        self.conn.execute(
            f"INSERT INTO edition_totals(edition_id, folded_at, {', '.join(columns)})"
            f" VALUES (:e, :now, {', '.join(values)})"
            " ON CONFLICT(edition_id) DO UPDATE SET folded_at = excluded.folded_at, "
            + ", ".join(f"{c} = {c} + excluded.{c}" for c in columns),
            {"e": edition_id, "now": now},
        )
        self.conn.execute("DELETE FROM events WHERE edition_id = ? AND event NOT IN (" + _KEPT + ")", (edition_id,))
        self.conn.execute("DELETE FROM sends WHERE edition_id = ?", (edition_id,))
        self.conn.execute("DELETE FROM send_batches WHERE edition_id = ?", (edition_id,))

    def folded(self, edition_id: int) -> bool:
        return self.scalar("SELECT 1 FROM edition_totals WHERE edition_id = ?", (edition_id,)) is not None
