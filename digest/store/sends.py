"""The send ledger: every batch is written before it leaves and after it comes back.

A batch's rows go in as ``in_flight`` in one transaction before the provider is called, and
become ``sent`` (with the provider's message id) or ``failed`` (with the provider's words)
after. Rows still ``in_flight`` after a crash are turned ``unknown`` and re-sent only when
asked. The ``(edition_id, subscriber_id)`` unique key is what makes a double send impossible.
"""

from __future__ import annotations

import json
import os
import socket
import threading
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta

from digest import clock
from digest.models import Batch, Due, LockHolder, SendCounts, SendRow, UnfinishedEdition, iso, parse_iso
from digest.store.base import QueryBase

# A lock held on another host (a container that was replaced, say) whose heartbeat is older than this is taken over:
# six missed beats of a live sender (send/__init__.py beats every 10 s from a thread of its own).
STALE_AFTER_S = 60.0

# Run ids of the sends this process is running now: a lock row with this process's pid but another run id
# was left by an earlier process that had the same pid (a container's pid 1, say), so it is stale.
_ACTIVE_RUNS: set[str] = set()
_ACTIVE_LOCK = threading.Lock()


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _process_started(pid: int) -> datetime | None:
    """When the process started (Linux /proc), or None when that cannot be told."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as fh:
            ticks = int(fh.read().rpartition(")")[2].split()[19])
        with open("/proc/stat", encoding="ascii") as fh:
            boot = next(int(line.split()[1]) for line in fh if line.startswith("btime "))
        return datetime.fromtimestamp(boot + ticks / os.sysconf("SC_CLK_TCK"), UTC)
    except (OSError, ValueError, IndexError, StopIteration):
        return None


def lock_is_live(held: LockHolder, stale_after: float = STALE_AFTER_S) -> bool:
    """Whether a lock row's holder may still be at work.

    On this host: its process is alive (and is not a newer process that reused the pid); a lock with this
    process's own pid is live only if its run is one this process is running. A live process on this host
    is never taken over, however old its heartbeat. On another host: its heartbeat is recent.
    """
    if held.host != socket.gethostname():
        beat = parse_iso(held.heartbeat_at)
        return beat is None or clock.wall() - beat <= timedelta(seconds=stale_after)
    pid = held.pid
    if pid == os.getpid():
        with _ACTIVE_LOCK:
            return held.run_id in _ACTIVE_RUNS
    if not _pid_alive(pid):
        return False
    started, acquired = _process_started(pid), parse_iso(held.acquired_at)
    return started is None or acquired is None or started <= acquired + timedelta(seconds=5)


_NO_PAUSE = "9999-12-31"  # no edition date given: nobody's pause holds it back


class SendQueries(QueryBase):
    # -- locks ---------------------------------------------------------------------------
    def acquire_lock(self, name: str, owner: str, run_id: str, stale_after: float = STALE_AFTER_S) -> LockHolder | None:
        """Take a named lock for the run ``run_id``; returns None on success, else who holds it.

        A lock whose holder is gone (see :func:`lock_is_live`) is taken over.
        """
        now = clock.wall()
        with self.transaction(immediate=True):
            held = self._lock(name)
            if held is not None:
                if lock_is_live(held, stale_after):
                    return held
                self.conn.execute("DELETE FROM locks WHERE name = ?", (name,))
            self.conn.execute(
                "INSERT INTO locks(name, owner, pid, host, acquired_at, heartbeat_at, run_id)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (name, owner, os.getpid(), socket.gethostname(), iso(now), iso(now), run_id),
            )
        with _ACTIVE_LOCK:
            _ACTIVE_RUNS.add(run_id)
        return None

    def live_lock(self, name: str) -> LockHolder | None:
        """Who holds the named lock if they are still at work, else None."""
        held = self._lock(name)
        return held if held is not None and lock_is_live(held) else None

    def _lock(self, name: str) -> LockHolder | None:
        found = self.row(
            "SELECT name, owner, pid, host, acquired_at, heartbeat_at, run_id FROM locks WHERE name = ?", (name,)
        )
        return LockHolder(**found) if found else None

    def heartbeat_lock(self, name: str, run_id: str) -> None:
        self.conn.execute(
            "UPDATE locks SET heartbeat_at = ? WHERE name = ? AND run_id = ?", (iso(clock.wall()), name, run_id)
        )

    def release_lock(self, name: str, run_id: str) -> None:
        try:
            self.conn.execute("DELETE FROM locks WHERE name = ? AND run_id = ?", (name, run_id))
        finally:
            with _ACTIVE_LOCK:
                _ACTIVE_RUNS.discard(run_id)

    # -- batches -------------------------------------------------------------------------
    def _new_batch(self, edition_id: int, provider: str, size: int, now: str, run_id: str | None = None) -> int:
        """A batch row, in flight, owned by the send run ``run_id`` (call inside a write transaction)."""
        cur = self.conn.execute(
            "INSERT INTO send_batches(edition_id, provider, status, size, pid, run_id, started_at)"
            " VALUES (?, ?, 'in_flight', ?, ?, ?, ?)",
            (edition_id, provider, size, os.getpid(), run_id, now),
        )
        return int(cur.lastrowid or 0)

    def restart_batch(
        self,
        edition_id: int,
        provider: str,
        rows: Sequence[tuple[int, str, str]],
        *,
        run_id: str | None = None,
        unknown_retry: bool = False,
    ) -> tuple[int, list[tuple[int, str, str]]] | None:
        """Put recipients whose send row failed (or was unknown) into a new batch, in flight.

        Only rows still ``failed`` or ``unknown`` are taken (never one another run has in flight or sent);
        returns the batch id and the (subscriber_id, email, name) rows it holds, or None if it holds none.
        """
        now = iso(clock.now())
        with self.transaction(immediate=True, durable=True):  # on disk before the request leaves
            batch_id = self._new_batch(edition_id, provider, len(rows), now, run_id)
            taken = [
                (sid, email, name)
                for sid, email, name in rows
                if self.conn.execute(
                    "UPDATE sends SET batch_id = ?, status = 'in_flight', email = ?, message_id = NULL, error = NULL,"
                    " updated_at = ?, unknown_retries = unknown_retries + ? WHERE edition_id = ? AND subscriber_id = ?"
                    " AND status IN ('failed', 'unknown')",
                    (batch_id, email, now, int(unknown_retry), edition_id, sid),
                ).rowcount
            ]
            if not taken:
                self.conn.execute("DELETE FROM send_batches WHERE id = ?", (batch_id,))
                return None
            if len(taken) != len(rows):
                self.conn.execute("UPDATE send_batches SET size = ? WHERE id = ?", (len(taken), batch_id))
        return batch_id, taken

    def finish_batch(
        self,
        batch_id: int,
        status: str,
        *,
        message_id: str | None = None,
        error: str | None = None,
        attempts: int = 1,
        outcomes: Mapping[int, tuple[str, str | None]] | None = None,
    ) -> None:
        """Record how a batch ended: sent, failed or unknown (``outcomes`` overrides single recipients)."""
        now = iso(clock.now())
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

    @staticmethod
    def _owed_new_sql(active: Sequence[str], due: Due | None = None) -> str:
        """People on the list (?), in an active status, id above ?, not pausing it on the edition's date (?), with
        no send row for the edition (?); limit ?. With ``due`` (its parameters from :func:`_due_params` go
        before the limit): only readers whose zone is due and who had none of its recent editions since their
        local day began.

        Walks subscribers in id order (CROSS JOIN keeps SQLite from sorting the whole list for each
        chunk), so every chunk costs the same whatever the list size and memory stays flat.
        """
        sql = (
            "SELECT s.id, s.email, s.name FROM subscribers s CROSS JOIN subscriptions sub"
            " ON sub.subscriber_id = s.id AND sub.list_id = ?"
            f" WHERE s.id > ? AND sub.status IN ({', '.join('?' * len(active))})"
            " AND (sub.paused_until IS NULL OR sub.paused_until <= ?)"
            " AND NOT EXISTS (SELECT 1 FROM sends WHERE sends.edition_id = ? AND sends.subscriber_id = s.id)"
        )
        if due is not None:
            # edition ids are integers from the store: inlined, so the (edition_id, subscriber_id) key is probed
            recent = ", ".join(str(int(e)) for e in due.recent) or "NULL"
            sql += (
                f" AND EXISTS (SELECT 1 FROM json_each(?) d WHERE d.key = {READER_ZONE}"
                " AND NOT EXISTS (SELECT 1 FROM sends x WHERE x.subscriber_id = s.id"
                f" AND x.edition_id IN ({recent}) AND x.created_at >= d.value))"
            )
        return sql + " ORDER BY s.id LIMIT ?"

    def claim_new_batch(
        self,
        edition_id: int,
        provider: str,
        list_id: int,
        active: Sequence[str],
        after: int,
        size: int,
        run_id: str | None = None,
        day: str = "",
        due: Due | None = None,
    ) -> tuple[int, list[tuple[int, str, str]]] | None:
        """Write the next ``size`` people owed the edition (id above ``after``) as one batch in flight.

        One INSERT ... SELECT (the same walk as :meth:`owed_new`) in one transaction; returns the batch
        id and its (subscriber_id, email, name) rows, or None when nobody is left. ``day`` is the edition's
        date: readers pausing the list until after it are skipped (not failed: they are not owed it).
        ``due``: only the readers whose local send time has come (a list with a send time, in ``digest run``).
        """
        now = iso(clock.now())
        with self.transaction(immediate=True, durable=True):  # on disk before the request leaves
            batch_id = self._new_batch(edition_id, provider, 0, now, run_id)
            self.conn.execute(
                "INSERT INTO sends(edition_id, subscriber_id, email, batch_id, status, created_at, updated_at)"
                f" SELECT ?, id, email, ?, 'in_flight', ?, ? FROM ({self._owed_new_sql(active, due)})",
                (
                    *(edition_id, batch_id, now, now, list_id, after, *active, day or _NO_PAUSE, edition_id),
                    *_due_params(due),
                    size,
                ),
            )
            rows = self.conn.execute(
                "SELECT s.id, s.email, s.name FROM sends JOIN subscribers s ON s.id = sends.subscriber_id"
                " WHERE sends.batch_id = ? ORDER BY s.id",
                (batch_id,),
            ).fetchall()
            if not rows:
                self.conn.execute("DELETE FROM send_batches WHERE id = ?", (batch_id,))
                return None
            self.conn.execute("UPDATE send_batches SET size = ? WHERE id = ?", (len(rows), batch_id))
        return batch_id, rows

    def owed_new(
        self,
        list_id: int,
        edition_id: int,
        active: Sequence[str],
        chunk: int = 1000,
        day: str = "",
        due: Due | None = None,
    ) -> Iterator[list[tuple[int, str, str]]]:
        """Chunks of (subscriber_id, email, name) on the list, in an ``active`` status, with no send row yet
        (and, with ``due``, whose local send time has come)."""
        sql = self._owed_new_sql(active, due)
        last = 0
        while True:
            params = (list_id, last, *active, day or _NO_PAUSE, edition_id, *_due_params(due), chunk)
            rows = self.conn.execute(sql, params).fetchall()
            if not rows:
                return
            last = rows[-1][0]
            yield rows

    def owed_again(
        self,
        edition_id: int,
        list_id: int,
        active: Sequence[str],
        retry_unknown: bool,
        chunk: int = 1000,
        run_id: str | None = None,
    ) -> Iterator[tuple[str, list[tuple[int, str, str]]]]:
        """Chunks of (kind, [(subscriber_id, email, name)]) to send again: failed rows, then (if asked)
        unknown rows never retried before; only people still subscribed, and none the run ``run_id`` itself
        sent (a row it left unknown was never looked up in the provider's events: it waits for the next run).

        Walks the edition's rows of one status in subscriber order on the ``sends_edition_status`` index
        (keyset pagination), so each chunk costs the same however many rows are left.
        """
        marks = ", ".join("?" * len(active))
        kinds = ["failed", "unknown"] if retry_unknown else ["failed"]
        for kind in kinds:
            last = 0
            while True:
                rows = self.conn.execute(
                    "SELECT s.id, s.email, s.name FROM sends CROSS JOIN subscribers s ON s.id = sends.subscriber_id"
                    " CROSS JOIN subscriptions sub ON sub.subscriber_id = sends.subscriber_id AND sub.list_id = ?"
                    " WHERE sends.edition_id = ? AND sends.status = ? AND sends.subscriber_id > ?"
                    f" AND sub.status IN ({marks}) AND (? = 'failed' OR sends.unknown_retries < 1)"
                    " AND NOT EXISTS (SELECT 1 FROM send_batches b WHERE b.id = sends.batch_id AND b.run_id = ?)"
                    " ORDER BY sends.subscriber_id LIMIT ?",
                    (list_id, edition_id, kind, last, *active, kind, run_id, chunk),
                ).fetchall()
                if not rows:
                    break
                last = rows[-1][0]
                yield kind, [(r[0], r[1], r[2]) for r in rows]

    def orphaned_batches(self, edition_id: int, run_id: str) -> list[Batch]:
        """Batches in flight that the run ``run_id`` did not start: their fate is unknown.

        Call it only while holding the edition's send lock: then no other run is sending it, so any batch in
        flight was left by a run that stopped (whatever its pid: pids repeat, e.g. pid 1 in every container).
        """
        rows = self.rows(
            f"SELECT {_BATCH_COLUMNS} FROM send_batches WHERE edition_id = ? AND status = 'in_flight'"
            " AND (run_id IS NULL OR run_id != ?) ORDER BY id",
            (edition_id, run_id),
        )
        return [Batch(**r) for r in rows]

    def mark_unknown(self, batch_ids: Sequence[int], why: str) -> None:
        for batch_id in batch_ids:
            self.finish_batch(batch_id, "unknown", error=why)

    def reader_zones(self, list_id: int, active: Sequence[str], default: str) -> dict[str, int]:
        """How many of the list's ``active`` readers live in each timezone (their ``timezone`` attribute, else
        ``default``), as the send's ``due`` filter reads it."""
        marks = ", ".join("?" * len(active))
        return {
            zone: int(n)
            for zone, n in self.conn.execute(
                f"SELECT {READER_ZONE} AS zone, count(*) FROM subscriptions sub JOIN subscribers s"
                f" ON s.id = sub.subscriber_id WHERE sub.list_id = ? AND sub.status IN ({marks}) GROUP BY zone",
                (default, list_id, *active),
            )
        }

    def recent_editions(self, list_id: int, since: str) -> list[int]:
        """The ids of the list's editions dated ``since`` or later."""
        return [
            int(r[0])
            for r in self.conn.execute("SELECT id FROM editions WHERE list_id = ? AND date >= ?", (list_id, since))
        ]

    def unfinished_editions(self, list_id: int, before: str, since: str) -> list[UnfinishedEdition]:
        """Earlier editions of a list (``since`` <= date < ``before``) that still have failed or unknown rows."""
        rows = self.rows(
            "SELECT l.name AS list, e.id AS edition, e.date, sum(s.status = 'failed') AS failed,"
            " sum(s.status = 'unknown') AS unknown FROM editions e JOIN lists l ON l.id = e.list_id"
            " JOIN sends s ON s.edition_id = e.id"
            " WHERE e.list_id = ? AND e.date < ? AND e.date >= ? AND s.status IN ('failed', 'unknown')"
            " GROUP BY e.id ORDER BY e.date",
            (list_id, before, since),
        )
        return [UnfinishedEdition(**r) for r in rows]

    def send_counts(self, edition_id: int) -> SendCounts:
        counts = dict(
            self.conn.execute("SELECT status, count(*) FROM sends WHERE edition_id = ? GROUP BY status", (edition_id,))
        )
        return SendCounts(**counts)

    def sends_for(self, subscriber_id: int) -> list[SendRow]:
        """Every ledger row of one person, oldest first, with each edition's date, subject and list."""
        rows = self.rows(
            "SELECT sends.id, sends.edition_id, sends.subscriber_id, sends.email, sends.batch_id, sends.status,"
            " sends.message_id, sends.error, sends.created_at, sends.updated_at, sends.unknown_retries,"
            " editions.date, editions.subject, lists.name AS list FROM sends"
            " JOIN editions ON editions.id = sends.edition_id JOIN lists ON lists.id = editions.list_id"
            " WHERE sends.subscriber_id = ? ORDER BY sends.id",
            (subscriber_id,),
        )
        return [SendRow(**r) for r in rows]


# A reader's timezone: their ``timezone`` attribute (import column, preferences page, ``subscribers add``), else
# the list's (the one ``?`` parameter).
READER_ZONE = "coalesce(nullif(trim(CAST(json_extract(s.attributes, '$.timezone') AS TEXT)), ''), ?)"


def _due_params(due: Due | None) -> tuple[str, ...]:
    """The parameters of :meth:`SendQueries._owed_new_sql`'s ``due`` clause: the zone map, the default zone."""
    if due is None:
        return ()
    return (json.dumps(dict(due.since)), due.zone)


_BATCH_COLUMNS = (
    "id, edition_id, provider, status, size, attempts, message_id, error, pid, started_at, finished_at, run_id"
)
