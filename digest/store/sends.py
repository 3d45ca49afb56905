"""The send ledger: every batch is written before it leaves and after it comes back.

A batch's rows go in as ``in_flight`` in one transaction before the provider is called, and
become ``sent`` (with the provider's message id) or ``failed`` (with the provider's words)
after. Rows still ``in_flight`` after a crash are turned ``unknown`` and re-sent only when
asked. The ``(edition_id, subscriber_id)`` unique key is what makes a double send impossible.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator, Mapping, Sequence
from datetime import timedelta
from typing import Any

from digest.models import iso, parse_iso, utcnow
from digest.store.base import QueryBase


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class SendQueries(QueryBase):
    # -- locks ---------------------------------------------------------------------------
    def acquire_lock(self, name: str, owner: str, stale_after: float = 600.0) -> dict[str, Any] | None:
        """Take a named lock; returns None on success, else the holder's row.

        A lock whose process is gone (same host) or whose heartbeat is older than
        ``stale_after`` seconds is taken over.
        """
        now = utcnow()
        host = socket.gethostname()
        with self.transaction(immediate=True):
            held = self.row("SELECT * FROM locks WHERE name = ?", (name,))
            if held is not None:
                beat = parse_iso(held["heartbeat_at"])
                stale = (held["host"] == host and not _pid_alive(held["pid"])) or (
                    beat is not None and now - beat > timedelta(seconds=stale_after)
                )
                if not stale and not (held["pid"] == os.getpid() and held["host"] == host):
                    return held
                self.conn.execute("DELETE FROM locks WHERE name = ?", (name,))
            self.conn.execute(
                "INSERT INTO locks(name, owner, pid, host, acquired_at, heartbeat_at) VALUES (?, ?, ?, ?, ?, ?)",
                (name, owner, os.getpid(), host, iso(now), iso(now)),
            )
        return None

    def heartbeat_lock(self, name: str) -> None:
        self.conn.execute(
            "UPDATE locks SET heartbeat_at = ? WHERE name = ? AND pid = ?", (iso(utcnow()), name, os.getpid())
        )

    def release_lock(self, name: str) -> None:
        self.conn.execute("DELETE FROM locks WHERE name = ? AND pid = ?", (name, os.getpid()))

    # -- batches -------------------------------------------------------------------------
    def _new_batch(self, edition_id: int, provider: str, size: int, now: str) -> int:
        """A batch row, in flight, owned by this process (call inside a write transaction)."""
        cur = self.conn.execute(
            "INSERT INTO send_batches(edition_id, provider, status, size, pid, started_at)"
            " VALUES (?, ?, 'in_flight', ?, ?, ?)",
            (edition_id, provider, size, os.getpid(), now),
        )
        return int(cur.lastrowid or 0)

    def start_batch(self, edition_id: int, provider: str, recipients: Sequence[tuple[int, str]]) -> int:
        """Write a batch and its recipients as in flight, before anything leaves."""
        now = iso(utcnow())
        with self.transaction(immediate=True):
            batch_id = self._new_batch(edition_id, provider, len(recipients), now)
            self.conn.executemany(
                "INSERT INTO sends(edition_id, subscriber_id, email, batch_id, status, created_at, updated_at)"
                " VALUES (?, ?, ?, ?, 'in_flight', ?, ?)",
                [(edition_id, sid, email, batch_id, now, now) for sid, email in recipients],
            )
        return batch_id

    def restart_batch(self, edition_id: int, provider: str, recipients: Sequence[tuple[int, str]], *,
                      unknown_retry: bool = False) -> int:
        """Put recipients whose send row failed (or was unknown) into a new batch, in flight."""
        now = iso(utcnow())
        with self.transaction(immediate=True):
            batch_id = self._new_batch(edition_id, provider, len(recipients), now)
            self.conn.executemany(
                "UPDATE sends SET batch_id = ?, status = 'in_flight', email = ?, message_id = NULL, error = NULL,"
                " updated_at = ?, unknown_retries = unknown_retries + ? WHERE edition_id = ? AND subscriber_id = ?",
                [(batch_id, email, now, int(unknown_retry), edition_id, sid) for sid, email in recipients],
            )
        return batch_id

    def finish_batch(
        self, batch_id: int, status: str, *, message_id: str | None = None, error: str | None = None,
        attempts: int = 1, outcomes: Mapping[int, tuple[str, str | None]] | None = None,
    ) -> None:
        """Record how a batch ended: sent, failed or unknown (``outcomes`` overrides single recipients)."""
        now = iso(utcnow())
        with self.transaction():
            self.conn.execute(
                "UPDATE send_batches SET status = ?, message_id = ?, error = ?, attempts = ?, finished_at = ?"
                " WHERE id = ?",
                (status, message_id, error, attempts, now, batch_id),
            )
            self.conn.execute(
                "UPDATE sends SET status = ?, message_id = ?, error = ?, updated_at = ? WHERE batch_id = ?",
                (status, message_id, error, now, batch_id),
            )
            if outcomes:
                self.conn.executemany(
                    "UPDATE sends SET status = ?, error = ? WHERE batch_id = ? AND subscriber_id = ?",
                    [(st, err, batch_id, sid) for sid, (st, err) in outcomes.items()],
                )

    def claim_new_batch(self, edition_id: int, provider: str, list_id: int, active: Sequence[str], after: int,
                        size: int) -> tuple[int, list[tuple[int, str, str]]] | None:
        """Write the next ``size`` people owed the edition (id above ``after``) as one batch in flight.

        One INSERT ... SELECT (the same walk as :meth:`owed_new`) in one transaction; returns the batch
        id and its (subscriber_id, email, name) rows, or None when nobody is left.
        """
        now = iso(utcnow())
        marks = ", ".join("?" * len(active))
        with self.transaction(immediate=True):
            batch_id = self._new_batch(edition_id, provider, 0, now)
            self.conn.execute(
                "INSERT INTO sends(edition_id, subscriber_id, email, batch_id, status, created_at, updated_at)"
                " SELECT ?, s.id, s.email, ?, 'in_flight', ?, ? FROM subscribers s CROSS JOIN subscriptions sub"
                " ON sub.subscriber_id = s.id AND sub.list_id = ?"
                f" WHERE s.id > ? AND sub.status IN ({marks})"
                " AND NOT EXISTS (SELECT 1 FROM sends WHERE sends.edition_id = ? AND sends.subscriber_id = s.id)"
                " ORDER BY s.id LIMIT ?",
                (edition_id, batch_id, now, now, list_id, after, *active, edition_id, size),
            )
            rows = self.conn.execute(
                "SELECT s.id, s.email, s.name FROM sends JOIN subscribers s ON s.id = sends.subscriber_id"
                " WHERE sends.batch_id = ? ORDER BY s.id", (batch_id,),
            ).fetchall()
            if not rows:
                self.conn.execute("DELETE FROM send_batches WHERE id = ?", (batch_id,))
                return None
            self.conn.execute("UPDATE send_batches SET size = ? WHERE id = ?", (len(rows), batch_id))
        return batch_id, rows

    def owed_new(self, list_id: int, edition_id: int, active: Sequence[str],
                 chunk: int = 1000) -> Iterator[list[tuple[int, str, str]]]:
        """Chunks of (subscriber_id, email, name) on the list, in an ``active`` status, with no send row yet.

        Walks subscribers in id order (CROSS JOIN keeps SQLite from sorting the whole list for each
        chunk), so every chunk costs the same whatever the list size and memory stays flat.
        """
        marks = ", ".join("?" * len(active))
        last = 0
        while True:
            rows = self.conn.execute(
                "SELECT s.id, s.email, s.name FROM subscribers s CROSS JOIN subscriptions sub"
                " ON sub.subscriber_id = s.id AND sub.list_id = ?"
                f" WHERE s.id > ? AND sub.status IN ({marks})"
                " AND NOT EXISTS (SELECT 1 FROM sends WHERE sends.edition_id = ? AND sends.subscriber_id = s.id)"
                " ORDER BY s.id LIMIT ?",
                (list_id, last, *active, edition_id, chunk),
            ).fetchall()
            if not rows:
                return
            last = rows[-1][0]
            yield rows

    def owed_again(self, edition_id: int, list_id: int, active: Sequence[str], retry_unknown: bool,
                   chunk: int = 1000) -> Iterator[tuple[str, list[tuple[int, str, str]]]]:
        """Chunks of (kind, [(subscriber_id, email, name)]) to send again: failed rows, then (if asked)
        unknown rows never retried before; only people still subscribed."""
        marks = ", ".join("?" * len(active))
        kinds = ["failed", "unknown"] if retry_unknown else ["failed"]
        for kind in kinds:
            last = 0
            while True:
                rows = self.conn.execute(
                    "SELECT s.id, s.email, s.name FROM sends JOIN subscribers s ON s.id = sends.subscriber_id"
                    " JOIN subscriptions sub ON sub.subscriber_id = s.id AND sub.list_id = ?"
                    f" WHERE sends.edition_id = ? AND sends.status = ? AND sub.status IN ({marks})"
                    " AND (? = 'failed' OR sends.unknown_retries < 1) AND s.id > ? ORDER BY s.id LIMIT ?",
                    (list_id, edition_id, kind, *active, kind, last, chunk),
                ).fetchall()
                if not rows:
                    break
                last = rows[-1][0]
                yield kind, [(r[0], r[1], r[2]) for r in rows]

    def orphaned_batches(self, edition_id: int) -> list[dict[str, Any]]:
        """Batches left in flight by a process that is gone: their fate is unknown."""
        rows = self.rows(
            "SELECT * FROM send_batches WHERE edition_id = ? AND status = 'in_flight'", (edition_id,)
        )
        return [r for r in rows if r["pid"] != os.getpid() or not _pid_alive(r["pid"])]

    def mark_unknown(self, batch_ids: Sequence[int], why: str) -> None:
        for batch_id in batch_ids:
            self.finish_batch(batch_id, "unknown", error=why)

    def unknown_batches(self, edition_id: int) -> list[dict[str, Any]]:
        """Batches that still hold recipients whose send is unknown."""
        return self.rows(
            "SELECT * FROM send_batches WHERE edition_id = ? AND EXISTS"
            " (SELECT 1 FROM sends WHERE sends.batch_id = send_batches.id AND sends.status = 'unknown')"
            " ORDER BY id",
            (edition_id,),
        )

    def sends_of(self, edition_id: int, status: str | None = None) -> list[dict[str, Any]]:
        sql = "SELECT * FROM sends WHERE edition_id = ?" + (" AND status = ?" if status else "") + " ORDER BY id"
        return self.rows(sql, (edition_id, status) if status else (edition_id,))

    def send_counts(self, edition_id: int) -> dict[str, int]:
        counts = dict.fromkeys(("in_flight", "sent", "failed", "unknown"), 0)
        for status, n in self.conn.execute(
            "SELECT status, count(*) FROM sends WHERE edition_id = ? GROUP BY status", (edition_id,)
        ):
            counts[status] = n
        return counts

    def sends_for(self, subscriber_id: int) -> list[dict[str, Any]]:
        return self.rows(
            "SELECT sends.*, editions.date, editions.subject, lists.name AS list FROM sends"
            " JOIN editions ON editions.id = sends.edition_id JOIN lists ON lists.id = editions.list_id"
            " WHERE sends.subscriber_id = ? ORDER BY sends.id",
            (subscriber_id,),
        )

    # -- runs ------------------------------------------------------------------------------
    def start_run(self) -> int:
        cur = self.conn.execute("INSERT INTO runs(started_at) VALUES (?)", (iso(utcnow()),))
        return int(cur.lastrowid or 0)

    def finish_run(self, run_id: int, exit_code: int, summary: str) -> None:
        self.conn.execute(
            "UPDATE runs SET finished_at = ?, exit_code = ?, summary = ? WHERE id = ?",
            (iso(utcnow()), exit_code, summary, run_id),
        )
