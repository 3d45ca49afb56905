"""Queries on delivery events reported by providers (webhooks), suppressions, and per-edition stats."""

from __future__ import annotations

from typing import Any

from digest import clock
from digest.models import EditionStats, iso
from digest.store.base import QueryBase, dumps


class EventQueries(QueryBase):
    def record_event(
        self,
        dedupe_key: str,
        event: str,
        *,
        email: str | None,
        edition_id: int | None,
        subscriber_id: int | None,
        occurred_at: str | None,
        data: dict[str, Any],
    ) -> bool:
        """Store one provider event; False when it was seen before (providers retry, duplicates are normal)."""
        if subscriber_id is None and email:
            subscriber_id = self.scalar("SELECT id FROM subscribers WHERE email = ?", (email,))
        send_id = None
        if edition_id is not None and subscriber_id is not None:
            send_id = self.scalar(
                "SELECT id FROM sends WHERE edition_id = ? AND subscriber_id = ?", (edition_id, subscriber_id)
            )
        cur = self.conn.execute(
            "INSERT OR IGNORE INTO events(dedupe_key, event, email, edition_id, subscriber_id, send_id, occurred_at,"
            " received_at, data) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (dedupe_key, event, email, edition_id, subscriber_id, send_id, occurred_at, iso(clock.now()), dumps(data)),
        )
        return cur.rowcount == 1

    def resolve_unknown(self, edition_id: int, subscriber_id: int | None = None) -> int:
        """Unknown send rows of the edition (one reader's, or all) that a provider event shows were accepted become
        ``sent``; how many. Any event about the edition's copy (processed, delivered, a bounce...) is that
        evidence, except one about a test copy."""
        sql = (
            "UPDATE sends SET status = 'sent', error = 'the provider reported it: ' || ("
            "SELECT ev.event FROM events ev WHERE ev.edition_id = sends.edition_id"
            " AND ev.subscriber_id = sends.subscriber_id AND json_extract(ev.data, '$.test') IS NULL"
            " ORDER BY ev.id LIMIT 1), updated_at = ?"
            " WHERE edition_id = ? AND status = 'unknown' AND EXISTS (SELECT 1 FROM events ev"
            " WHERE ev.edition_id = sends.edition_id AND ev.subscriber_id = sends.subscriber_id"
            " AND json_extract(ev.data, '$.test') IS NULL)"
        )
        params: list[Any] = [iso(clock.now()), edition_id]
        if subscriber_id is not None:
            sql += " AND subscriber_id = ?"
            params.append(subscriber_id)
        return self.conn.execute(sql, params).rowcount

    def count_events(
        self, event: str, *, since: str, subscriber_id: int | None = None, list_id: int | None = None
    ) -> int:
        """How many ``event`` events were recorded since ``since`` (ISO), for one person and/or list."""
        sql = "SELECT count(*) FROM events WHERE event = ? AND received_at >= ?"
        params: list[Any] = [event, since]
        if subscriber_id is not None:
            sql += " AND subscriber_id = ?"
            params.append(subscriber_id)
        if list_id is not None:
            sql += " AND json_extract(data, '$.list_id') = ?"
            params.append(list_id)
        return int(self.scalar(sql, tuple(params)))

    def latest_edition_sent_to(self, subscriber_id: int, list_id: int) -> int | None:
        """The latest edition of the list that went (or may have gone) to the subscriber; None if none did."""
        return self.scalar(
            "SELECT e.id FROM sends s JOIN editions e ON e.id = s.edition_id"
            " WHERE s.subscriber_id = ? AND e.list_id = ? AND s.status IN ('sent', 'unknown')"
            " ORDER BY e.date DESC, e.id DESC LIMIT 1",
            (subscriber_id, list_id),
        )

    def edition_list_id(self, edition_id: int) -> int | None:
        return self.scalar("SELECT list_id FROM editions WHERE id = ?", (edition_id,))

    def edition_stats(self, edition_id: int | None = None) -> list[EditionStats]:
        """Per edition: sent, failed, unknown (the ledger) and distinct people per delivery event."""

        def folded(column: str) -> str:  # what retention kept of an old edition (digest.store.retention)
            return f"coalesce((SELECT t.{column} FROM edition_totals t WHERE t.edition_id = e.id), 0)"

        def people(*names: str, total: str | None = None) -> str:
            marks = ", ".join(f"'{n}'" for n in names)
            live = (
                f"(SELECT count(DISTINCT coalesce(ev.subscriber_id, ev.email)) FROM events ev"
                f" WHERE ev.edition_id = e.id AND ev.event IN ({marks}))"
            )
            return f"({folded(total)} + {live})" if total else live

        def ledger(status: str) -> str:
            live = f"(SELECT count(*) FROM sends s WHERE s.edition_id = e.id AND s.status = '{status}')"
            return f"({folded(status)} + {live})"

        sql = (
            "SELECT e.id AS edition, l.name AS list, e.date, e.subject,"
            f" {ledger('sent')} AS sent, {ledger('failed')} AS failed, {ledger('unknown')} AS unknown,"
            f" {people('delivered', total='delivered')} AS delivered,"
            f" {people('bounce')} AS bounced, {people('dropped')} AS dropped,"
            f" {people('open', total='opened')} AS opened, {people('click', total='clicked')} AS clicked,"
            f" {people('unsubscribe', 'group_unsubscribe')} AS unsubscribed, {people('spamreport')} AS complained,"
            " (SELECT coalesce(sum(c.clicks), 0) FROM story_clicks c WHERE c.edition_id = e.id) AS link_clicks"
            " FROM editions e JOIN lists l ON l.id = e.list_id"
        )
        if edition_id is not None:
            rows = self.rows(sql + " WHERE e.id = ?", (edition_id,))
        else:
            rows = self.rows(sql + " ORDER BY e.date, l.name")
        return [EditionStats(**r) for r in rows]

    def count_click(self, edition_id: int, story_id: int, at: str) -> None:
        """One more click on the story's tracked link in the edition (committed at once)."""
        with self.conn:
            self.conn.execute(
                "INSERT INTO story_clicks(edition_id, story_id, clicks, first_at, last_at) VALUES (?, ?, 1, ?, ?)"
                " ON CONFLICT(edition_id, story_id) DO UPDATE SET clicks = clicks + 1, last_at = excluded.last_at",
                (edition_id, story_id, at, at),
            )
