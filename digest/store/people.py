"""Queries on lists, subscribers and their subscriptions (the store owns consent)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from digest.errors import NotFoundError, SubscriberError
from digest.models import iso, utcnow
from digest.store.base import QueryBase, dumps, loads

STATUSES = ("unconfirmed", "confirmed", "unsubscribed", "bounced", "complained")
LEFT = ("unsubscribed", "bounced", "complained")


def _list(row: dict[str, Any]) -> dict[str, Any]:
    row["double_opt_in"] = bool(row["double_opt_in"])
    row["boost"] = loads(row["boost"], [])
    row["block"] = loads(row["block"], [])
    return row


class PeopleQueries(QueryBase):
    # -- lists ---------------------------------------------------------------------------
    def add_list(
        self, name: str, *, from_email: str, from_name: str = "", reply_to: str = "",
        subject_prefix: str = "", address: str = "", double_opt_in: bool = False,
        boost: list[str] | None = None, block: list[str] | None = None,
    ) -> dict[str, Any]:
        if self.scalar("SELECT 1 FROM lists WHERE name = ?", (name,)):
            raise SubscriberError(f"a list named '{name}' exists already; see 'digest lists list'")
        self.conn.execute(
            "INSERT INTO lists(name, from_email, from_name, reply_to, subject_prefix, address, double_opt_in,"
            " boost, block, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (name, from_email, from_name, reply_to, subject_prefix, address, int(double_opt_in),
             dumps(boost or []), dumps(block or []), iso(utcnow())),
        )
        return self.list_(name)

    def list_(self, name: str) -> dict[str, Any]:
        row = self.row("SELECT * FROM lists WHERE name = ?", (name,))
        if row is None:
            known = ", ".join(r["name"] for r in self.lists()) or "none yet"
            raise NotFoundError(f"no list named '{name}' (lists: {known}); create it with 'digest lists add {name}'")
        return _list(row)

    def list_by_id(self, list_id: int) -> dict[str, Any]:
        row = self.row("SELECT * FROM lists WHERE id = ?", (list_id,))
        if row is None:
            raise NotFoundError(f"no list with id {list_id}")
        return _list(row)

    def lists(self) -> list[dict[str, Any]]:
        return [
            _list(r)
            for r in self.rows(
                "SELECT lists.*, (SELECT count(*) FROM subscriptions s WHERE s.list_id = lists.id"
                " AND s.status IN ('confirmed', 'unconfirmed')) AS active FROM lists ORDER BY name"
            )
        ]

    # -- subscribers ---------------------------------------------------------------------
    def subscriber(self, email: str) -> dict[str, Any]:
        row = self.row("SELECT * FROM subscribers WHERE email = ?", (email,))
        if row is None:
            raise NotFoundError(f"no subscriber {email}: see 'digest subscribers list'")
        row["attributes"] = loads(row["attributes"], {})
        return row

    def find_subscriber(self, email: str) -> dict[str, Any] | None:
        row = self.row("SELECT * FROM subscribers WHERE email = ?", (email,))
        if row is not None:
            row["attributes"] = loads(row["attributes"], {})
        return row

    def subscriber_by_id(self, subscriber_id: int) -> dict[str, Any] | None:
        row = self.row("SELECT * FROM subscribers WHERE id = ?", (subscriber_id,))
        if row is not None:
            row["attributes"] = loads(row["attributes"], {})
        return row

    def upsert_subscriber(self, email: str, name: str = "", attributes: dict[str, Any] | None = None) -> int:
        found = self.find_subscriber(email)
        if found:
            if (name and name != found["name"]) or (attributes and attributes != found["attributes"]):
                self.conn.execute(
                    "UPDATE subscribers SET name = ?, attributes = ? WHERE id = ?",
                    (name or found["name"], dumps(attributes or found["attributes"]), found["id"]),
                )
            return int(found["id"])
        cur = self.conn.execute(
            "INSERT INTO subscribers(email, name, attributes, created_at) VALUES (?, ?, ?, ?)",
            (email, name, dumps(attributes or {}), iso(utcnow())),
        )
        return int(cur.lastrowid or 0)

    def subscription(self, subscriber_id: int, list_id: int) -> str | None:
        return self.scalar(
            "SELECT status FROM subscriptions WHERE subscriber_id = ? AND list_id = ?", (subscriber_id, list_id)
        )

    def set_subscription(self, subscriber_id: int, list_id: int, status: str) -> None:
        if status not in STATUSES:
            raise SubscriberError(f"unknown status '{status}'; use one of {', '.join(STATUSES)}")
        now = iso(utcnow())
        self.conn.execute(
            "INSERT INTO subscriptions(subscriber_id, list_id, status, created_at, updated_at)"
            " VALUES (?, ?, ?, ?, ?) ON CONFLICT(subscriber_id, list_id)"
            " DO UPDATE SET status = excluded.status, updated_at = excluded.updated_at",
            (subscriber_id, list_id, status, now, now),
        )

    def subscribers(self, list_id: int | None = None, status: str | None = None) -> list[dict[str, Any]]:
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
        return self.rows(sql + " ORDER BY subscribers.email, lists.name", params)

    def recipients(self, list_id: int, edition_id: int, double_opt_in: bool,
                   chunk: int = 1000) -> Iterator[list[tuple[int, str, str, str]]]:
        """Chunks of (subscriber_id, email, name, attributes) still owed this edition.

        Confirmed subscribers (and unconfirmed ones on single opt-in lists) with no send row for
        the edition yet, in id order; memory stays flat whatever the list size.
        """
        statuses = ("confirmed",) if double_opt_in else ("confirmed", "unconfirmed")
        marks = ", ".join("?" * len(statuses))
        last = 0
        while True:
            rows = self.conn.execute(
                "SELECT s.id, s.email, s.name, s.attributes FROM subscriptions sub"
                " JOIN subscribers s ON s.id = sub.subscriber_id"
                f" WHERE sub.list_id = ? AND sub.status IN ({marks}) AND s.id > ?"
                " AND NOT EXISTS (SELECT 1 FROM sends WHERE sends.edition_id = ? AND sends.subscriber_id = s.id)"
                " ORDER BY s.id LIMIT ?",
                (list_id, *statuses, last, edition_id, chunk),
            ).fetchall()
            if not rows:
                return
            last = rows[-1][0]
            yield [(r[0], r[1], r[2], r[3]) for r in rows]

    # -- erasure -------------------------------------------------------------------------
    def is_erased(self, hashed: str) -> bool:
        return bool(self.scalar("SELECT 1 FROM erasures WHERE email_hash = ?", (hashed,)))
