"""Queries on lists, subscribers and their subscriptions (the store owns consent)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from digest import clock
from digest.errors import NotFoundError, SubscriberError
from digest.models import STATUSES, MailingList, Member, Subscriber, Subscription, iso
from digest.store.base import QueryBase, dumps, loads

LIST_NAME = re.compile(r"[A-Za-z0-9_-]+")  # a list's name goes into the List-Id header as is
_CHUNK = 900  # bound parameters per IN (...) query
# column names, never input
_EDITABLE = (
    "from_email",
    "from_name",
    "reply_to",
    "subject_prefix",
    "address",
    "title",
    "description",
    "double_opt_in",
    "language",
    "sources",
    "tags",
    "send_at",
    "timezone",
    "weekday",
    "require_approval",
    "public",
)


def _list(row: dict[str, Any]) -> MailingList:
    return MailingList(
        id=row["id"],
        name=row["name"],
        from_email=row["from_email"],
        from_name=row["from_name"],
        reply_to=row["reply_to"],
        subject_prefix=row["subject_prefix"],
        address=row["address"],
        double_opt_in=bool(row["double_opt_in"]),
        boost=tuple(loads(row["boost"], [])),
        block=tuple(loads(row["block"], [])),
        created_at=row["created_at"],
        title=row.get("title") or "",
        description=row.get("description") or "",
        language=row.get("language") or "en",
        sources=tuple(loads(row.get("sources"), [])),
        tags=tuple(loads(row.get("tags"), [])),
        send_at=row.get("send_at") or "",
        timezone=row.get("timezone") or "",
        weekday=row.get("weekday") or "",
        require_approval=bool(row.get("require_approval")),
        public=bool(row.get("public", 1)),
    )


def _subscriber(row: dict[str, Any] | None) -> Subscriber | None:
    if row is None:
        return None
    return Subscriber(row["id"], row["email"], row["name"], loads(row["attributes"], {}), row["created_at"])


def _chunks(items: Sequence[Any], size: int = _CHUNK) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def check_list_name(name: str) -> str:
    """The name if it can name a list (ASCII letters, digits, - or _), else :class:`SubscriberError`."""
    if not LIST_NAME.fullmatch(name):
        raise SubscriberError(f"{name!r} cannot be a list name; use letters, digits, - or _ (e.g. 'main')")
    return name


class PeopleQueries(QueryBase):
    # -- lists ---------------------------------------------------------------------------
    def add_list(
        self,
        name: str,
        *,
        from_email: str,
        from_name: str = "",
        reply_to: str = "",
        subject_prefix: str = "",
        address: str = "",
        double_opt_in: bool = False,
        boost: list[str] | None = None,
        block: list[str] | None = None,
        title: str = "",
        description: str = "",
        language: str = "en",
        **rhythm: str | int,
    ) -> MailingList:
        """Create a list. ``rhythm``: any of the other editable columns (``sources``, ``tags`` as JSON text,
        ``send_at``, ``timezone``, ``weekday``, ``require_approval``, ``public``), already checked."""
        check_list_name(name)
        if self.scalar("SELECT 1 FROM lists WHERE name = ?", (name,)):
            raise SubscriberError(f"a list named '{name}' exists already; see 'digest lists list'")
        self.conn.execute(
            "INSERT INTO lists(name, from_email, from_name, reply_to, subject_prefix, address, double_opt_in,"
            " boost, block, created_at, title, description, language) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                name,
                from_email,
                from_name,
                reply_to,
                subject_prefix,
                address,
                int(double_opt_in),
                dumps(boost or []),
                dumps(block or []),
                iso(clock.now()),
                title,
                description,
                language,
            ),
        )
        if rhythm:
            return self.update_list(name, **rhythm)
        return self.list_(name)

    def list_(self, name: str) -> MailingList:
        row = self.row("SELECT * FROM lists WHERE name = ?", (name,))
        if row is None:
            known = ", ".join(lst.name for lst in self.lists()) or "none yet"
            raise NotFoundError(f"no list named '{name}' (lists: {known}); create it with 'digest lists add {name}'")
        return _list(row)

    def set_list_keywords(
        self, name: str, *, boost: list[str] | None = None, block: list[str] | None = None
    ) -> MailingList:
        """Replace a list's editor keywords (None leaves that side as it is)."""
        row = self.list_(name)
        self.conn.execute(
            "UPDATE lists SET boost = ?, block = ? WHERE id = ?",
            (
                dumps(list(row.boost) if boost is None else boost),
                dumps(list(row.block) if block is None else block),
                row.id,
            ),
        )
        return self.list_(name)

    def update_list(self, name: str, **fields: str | int) -> MailingList:
        """Change a list's settings (``from_email``, ``from_name``, ``reply_to``, ``subject_prefix``, ``address``,
        ``title``, ``description``, ``double_opt_in``, ``language``, ``sources``/``tags`` (JSON text), ``send_at``,
        ``timezone``, ``weekday``, ``require_approval``, ``public``); the fields not given stay as they are."""
        row = self.list_(name)
        unknown = set(fields) - set(_EDITABLE)
        if unknown:
            raise ValueError(f"not a list setting: {', '.join(sorted(unknown))}")
        if fields:
            columns = [c for c in _EDITABLE if c in fields]
            self.conn.execute(
                f"UPDATE lists SET {', '.join(f'{c} = ?' for c in columns)} WHERE id = ?",
                (*(fields[c] for c in columns), row.id),
            )
        return self.list_(name)

    def find_list(self, name: str) -> MailingList | None:
        row = self.row("SELECT * FROM lists WHERE name = ?", (name,))
        return _list(row) if row else None

    def list_by_id(self, list_id: int) -> MailingList:
        row = self.row("SELECT * FROM lists WHERE id = ?", (list_id,))
        if row is None:
            raise NotFoundError(f"no list with id {list_id}")
        return _list(row)

    def lists(self) -> list[MailingList]:
        return [_list(r) for r in self.rows("SELECT * FROM lists ORDER BY name")]

    def status_counts(self) -> dict[int, dict[str, int]]:
        """list id -> status -> how many subscriptions (who that makes receivers is digest.consent's call)."""
        counts: dict[int, dict[str, int]] = {}
        for list_id, status, n in self.conn.execute(
            "SELECT list_id, status, count(*) FROM subscriptions GROUP BY list_id, status"
        ):
            counts.setdefault(list_id, {})[status] = n
        return counts

    # -- subscribers ---------------------------------------------------------------------
    def subscriber(self, email: str) -> Subscriber:
        row = self.find_subscriber(email)
        if row is None:
            raise NotFoundError(f"no subscriber {email}: see 'digest subscribers list'")
        return row

    def find_subscriber(self, email: str) -> Subscriber | None:
        return _subscriber(self.row("SELECT * FROM subscribers WHERE email = ?", (email,)))

    def subscriber_by_id(self, subscriber_id: int) -> Subscriber | None:
        return _subscriber(self.row("SELECT * FROM subscribers WHERE id = ?", (subscriber_id,)))

    def subscription(self, subscriber_id: int, list_id: int) -> str | None:
        return self.scalar(
            "SELECT status FROM subscriptions WHERE subscriber_id = ? AND list_id = ?", (subscriber_id, list_id)
        )

    def subscription_changed_at(self, subscriber_id: int, list_id: int) -> str | None:
        """When the subscription's status last changed (ISO), or None when there is none."""
        return self.scalar(
            "SELECT updated_at FROM subscriptions WHERE subscriber_id = ? AND list_id = ?", (subscriber_id, list_id)
        )

    def set_subscriber(self, subscriber_id: int, *, name: str, attributes: dict[str, Any]) -> None:
        """Replace one person's name and attributes (their own choices, from the preferences page)."""
        self.conn.execute(
            "UPDATE subscribers SET name = ?, attributes = ? WHERE id = ?", (name, dumps(attributes), subscriber_id)
        )

    def paused_until(self, subscriber_id: int, list_id: int) -> str | None:
        """The day (YYYY-MM-DD) a reader's pause of this list ends, or None."""
        return self.scalar(
            "SELECT paused_until FROM subscriptions WHERE subscriber_id = ? AND list_id = ?", (subscriber_id, list_id)
        )

    def set_paused_until(self, subscriber_id: int, list_id: int, day: str | None) -> None:
        self.conn.execute(
            "UPDATE subscriptions SET paused_until = ? WHERE subscriber_id = ? AND list_id = ?",
            (day, subscriber_id, list_id),
        )

    def paused_count(self, list_id: int, day: str, active: Sequence[str]) -> int:
        """How many of the list's ``active`` readers hold editions dated before their pause ends (``day``)."""
        marks = ", ".join("?" * len(active))
        return int(
            self.scalar(
                f"SELECT count(*) FROM subscriptions WHERE list_id = ? AND paused_until > ? AND status IN ({marks})",
                (list_id, day, *active),
            )
        )

    def subscriptions_of(self, subscriber_id: int) -> list[Subscription]:
        return [
            Subscription(*row)
            for row in self.conn.execute(
                "SELECT s.subscriber_id, s.list_id, lists.name, s.status, s.created_at, s.updated_at"
                " FROM subscriptions s JOIN lists ON lists.id = s.list_id"
                " WHERE s.subscriber_id = ? ORDER BY lists.name",
                (subscriber_id,),
            )
        ]

    def _set_subscription(self, subscriber_id: int, list_id: int, status: str) -> None:
        if status not in STATUSES:
            raise SubscriberError(f"unknown status '{status}'; use one of {', '.join(STATUSES)}")
        now = iso(clock.now())
        self.conn.execute(
            "INSERT INTO subscriptions(subscriber_id, list_id, status, created_at, updated_at)"
            " VALUES (?, ?, ?, ?, ?) ON CONFLICT(subscriber_id, list_id)"
            " DO UPDATE SET status = excluded.status, updated_at = excluded.updated_at",
            (subscriber_id, list_id, status, now, now),
        )

    def change_subscription(self, subscriber_id: int, list_id: int, status: str, *, only_from: Sequence[str]) -> bool:
        """Move one subscription to ``status`` if it is now in ``only_from``; True when it moved."""
        marks = ", ".join("?" * len(only_from))
        cur = self.conn.execute(
            f"UPDATE subscriptions SET status = ?, updated_at = ? WHERE subscriber_id = ? AND list_id = ?"
            f" AND status IN ({marks})",
            (status, iso(clock.now()), subscriber_id, list_id, *only_from),
        )
        return cur.rowcount > 0

    def change_subscriptions_of(
        self, email: str, status: str, *, only_from: Sequence[str], list_id: int | None = None
    ) -> int:
        """Move an address's subscriptions (on one list, or all) in ``only_from`` to ``status``; how many moved."""
        sql = (
            f"UPDATE subscriptions SET status = ?, updated_at = ? WHERE status IN ({', '.join('?' * len(only_from))})"
            " AND subscriber_id = (SELECT id FROM subscribers WHERE email = ?)"
        )
        params: list[Any] = [status, iso(clock.now()), *only_from, email]
        if list_id is not None:
            sql += " AND list_id = ?"
            params.append(list_id)
        return self.conn.execute(sql, params).rowcount

    def subscriber_count(self) -> int:
        """How many people are on file (on any list, or none)."""
        return int(self.scalar("SELECT count(*) FROM subscribers"))

    def subscribers(self, list_id: int | None = None, status: str | None = None) -> Iterator[Member]:
        """Everyone with each of their subscriptions, by address, streamed (a list of a million stays flat)."""
        sql = (
            "SELECT subscribers.id, subscribers.email, subscribers.name, subscribers.created_at,"
            " lists.name AS list, subscriptions.status FROM subscribers"
            " LEFT JOIN subscriptions ON subscriptions.subscriber_id = subscribers.id"
            " LEFT JOIN lists ON lists.id = subscriptions.list_id WHERE 1 = 1"
        )
        params: list[Any] = []
        if list_id is not None:
            sql += " AND subscriptions.list_id = ?"
            params.append(list_id)
        if status is not None:
            sql += " AND subscriptions.status = ?"
            params.append(status)
        return (Member(*row) for row in self.conn.execute(sql + " ORDER BY subscribers.email, lists.name", params))

    def export_rows(self, list_id: int | None = None) -> Iterator[tuple[str, str, str, str | None]]:
        """(email, name, attributes JSON, status on the list or None) in id order, streamed."""
        if list_id is None:
            cur = self.conn.execute("SELECT email, name, attributes, NULL FROM subscribers ORDER BY id")
        else:
            cur = self.conn.execute(
                "SELECT s.email, s.name, s.attributes, sub.status FROM subscriptions sub"
                " JOIN subscribers s ON s.id = sub.subscriber_id WHERE sub.list_id = ? ORDER BY s.id",
                (list_id,),
            )
        while rows := cur.fetchmany(1000):
            yield from rows

    # -- bulk import (one batch per write transaction; see digest.subscribers.importer) --
    @contextmanager
    def bulk_cache(self, mib: int = 64) -> Iterator[None]:
        """A bigger page cache while a bulk job runs (lookups into a large index stay in memory)."""
        before = self.scalar("PRAGMA cache_size")
        self.conn.execute(f"PRAGMA cache_size = -{int(mib) * 1024}")
        try:
            yield
        finally:
            self.conn.execute(f"PRAGMA cache_size = {int(before)}")

    def import_lookup(self, emails: Sequence[str], list_id: int) -> dict[str, tuple[int, str, str, str | None]]:
        """lower(email) -> (id, name, attributes JSON, status on the list or None) for those that exist."""
        found: dict[str, tuple[int, str, str, str | None]] = {}
        for part in _chunks(emails):
            marks = ", ".join("?" * len(part))
            for sid, email, name, attrs, status in self.conn.execute(
                "SELECT s.id, s.email, s.name, s.attributes, sub.status FROM subscribers s"
                " LEFT JOIN subscriptions sub ON sub.subscriber_id = s.id AND sub.list_id = ?"
                f" WHERE s.email IN ({marks})",
                (list_id, *part),
            ):
                found[email.lower()] = (sid, name, attrs, status)
        return found

    def import_seen_reset(self) -> None:
        """Start a new import's record of the addresses it has taken (a temporary table: memory stays flat)."""
        self.conn.execute(
            "CREATE TEMP TABLE IF NOT EXISTS import_seen(key TEXT PRIMARY KEY, line INTEGER NOT NULL) WITHOUT ROWID"
        )
        self.conn.execute("DELETE FROM temp.import_seen")

    def import_seen_among(self, keys: Sequence[str]) -> dict[str, int]:
        """lower(email) -> the line that brought it, for those this import took in an earlier batch."""
        found: dict[str, int] = {}
        for part in _chunks(keys):
            marks = ", ".join("?" * len(part))
            found.update(
                self.conn.execute(f"SELECT key, line FROM temp.import_seen WHERE key IN ({marks})", tuple(part))
            )
        return found

    def import_seen_add(self, rows: Iterable[tuple[str, int]]) -> None:
        self.conn.executemany("INSERT OR IGNORE INTO temp.import_seen(key, line) VALUES (?, ?)", rows)

    def has_erasures(self) -> bool:
        return bool(self.scalar("SELECT EXISTS (SELECT 1 FROM erasures)"))

    def erased_among(self, hashes: Sequence[str]) -> set[str]:
        got: set[str] = set()
        for part in _chunks(hashes):
            marks = ", ".join("?" * len(part))
            got.update(
                h
                for (h,) in self.conn.execute(
                    f"SELECT email_hash FROM erasures WHERE email_hash IN ({marks})", tuple(part)
                )
            )
        return got

    def forget_erasures(self, hashes: Iterable[str]) -> None:
        self.conn.executemany("DELETE FROM erasures WHERE email_hash = ?", ((h,) for h in hashes))

    def next_subscriber_id(self) -> int:
        """The next id never used before; call inside the write transaction that inserts with it.

        Ids are never reused, not even an erased person's: signed links and the send ledger name people
        by id, so a newcomer must not inherit an old id's unsubscribe links or sending history.
        """
        return int(
            self.scalar(
                "SELECT max(coalesce((SELECT max(id) FROM subscribers), 0),"
                " coalesce((SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'subscriber_id_high'), 0)) + 1"
            )
        )

    def insert_subscribers(self, rows: Iterable[tuple[int, str, str, str, str]]) -> None:
        """(id, email, name, attributes JSON, created_at) rows."""
        self.conn.executemany(
            "INSERT INTO subscribers(id, email, name, attributes, created_at) VALUES (?, ?, ?, ?, ?)", rows
        )

    def update_subscribers(self, rows: Iterable[tuple[str, str, int]]) -> None:
        """(name, attributes JSON, id) rows."""
        self.conn.executemany("UPDATE subscribers SET name = ?, attributes = ? WHERE id = ?", rows)

    def insert_subscriptions(self, list_id: int, rows: Iterable[tuple[int, str]], now: str) -> None:
        """(subscriber_id, status) rows for subscriptions that do not exist yet."""
        self.conn.executemany(
            "INSERT INTO subscriptions(subscriber_id, list_id, status, created_at, updated_at) VALUES (?, ?, ?, ?, ?)",
            ((sid, list_id, status, now, now) for sid, status in rows),
        )

    def update_subscriptions(self, list_id: int, rows: Iterable[tuple[int, str]], now: str) -> None:
        """(subscriber_id, status) rows for subscriptions that exist."""
        self.conn.executemany(
            "UPDATE subscriptions SET status = ?, updated_at = ? WHERE subscriber_id = ? AND list_id = ?",
            ((status, now, sid, list_id) for sid, status in rows),
        )

    # -- suppressions (complained, bounced or unsubscribed everywhere) ------------------------
    def suppress(self, hashed: str, reason: str) -> None:
        """Remember that this address (its one-way hash) must not be subscribed again without new consent."""
        self.conn.execute(
            "INSERT INTO suppressions(email_hash, reason, suppressed_at) VALUES (?, ?, ?) ON CONFLICT(email_hash)"
            " DO UPDATE SET reason = excluded.reason, suppressed_at = excluded.suppressed_at",
            (hashed, reason, iso(clock.now())),
        )

    def has_suppressions(self) -> bool:
        return bool(self.scalar("SELECT EXISTS (SELECT 1 FROM suppressions)"))

    def suppressed_among(self, hashes: Sequence[str]) -> dict[str, str]:
        """hash -> reason for those of ``hashes`` that are suppressed."""
        got: dict[str, str] = {}
        for part in _chunks(hashes):
            marks = ", ".join("?" * len(part))
            got.update(
                self.conn.execute(
                    f"SELECT email_hash, reason FROM suppressions WHERE email_hash IN ({marks})", tuple(part)
                )
            )
        return got

    def forget_suppressions(self, hashes: Iterable[str]) -> None:
        self.conn.executemany("DELETE FROM suppressions WHERE email_hash = ?", ((h,) for h in hashes))

    # -- erasure -------------------------------------------------------------------------
    def is_erased(self, hashed: str) -> bool:
        return bool(self.scalar("SELECT 1 FROM erasures WHERE email_hash = ?", (hashed,)))

    def erase_subscriber(self, subscriber_id: int, email: str, hashed: str) -> None:
        """Delete the person and their subscriptions, scrub their address from the ledger and events,
        and keep only the one-way hash so an import cannot add them back by accident."""
        with self.transaction(immediate=True):
            self.conn.execute("UPDATE sends SET email = '' WHERE subscriber_id = ?", (subscriber_id,))
            self.conn.execute(
                "UPDATE events SET email = NULL, data = '{}' WHERE subscriber_id = ? OR email = ?",
                (subscriber_id, email),
            )
            self.conn.execute("DELETE FROM subscriptions WHERE subscriber_id = ?", (subscriber_id,))
            self.conn.execute("DELETE FROM subscribers WHERE id = ?", (subscriber_id,))
            self.conn.execute(
                "INSERT INTO meta(key, value) VALUES ('subscriber_id_high', ?) ON CONFLICT(key) DO UPDATE"
                " SET value = max(CAST(value AS INTEGER), CAST(excluded.value AS INTEGER))",
                (str(subscriber_id),),
            )
            self.conn.execute(
                "INSERT OR IGNORE INTO erasures(email_hash, erased_at) VALUES (?, ?)", (hashed, iso(clock.now()))
            )
