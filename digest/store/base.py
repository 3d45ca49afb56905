"""Connection helpers shared by the query mixins."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlite_utils import Database


class QueryBase:
    db: Database

    @property
    def conn(self) -> sqlite3.Connection:
        return self.db.conn

    @contextmanager
    def transaction(self, immediate: bool = False, durable: bool = False) -> Iterator[sqlite3.Connection]:
        """One write transaction; ``immediate`` takes the write lock at once.

        ``durable`` syncs the WAL to disk at its commit (``synchronous = FULL`` for this commit only): the store
        runs ``NORMAL``, whose commits a power loss or an OS crash may undo, which is fine for everything but a
        ledger record that must exist before a request leaves.
        """
        conn = self.conn
        if conn.in_transaction:
            yield conn
            return
        if durable:
            conn.execute("PRAGMA synchronous = FULL")
        try:
            conn.execute("BEGIN IMMEDIATE" if immediate else "BEGIN")
            try:
                yield conn
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
            else:
                conn.execute("COMMIT")
        finally:
            if durable:
                conn.execute("PRAGMA synchronous = NORMAL")

    def rows(self, sql: str, params: Any = ()) -> list[dict[str, Any]]:
        cur = self.conn.execute(sql, params)
        names = [d[0] for d in cur.description]
        return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]

    def row(self, sql: str, params: Any = ()) -> dict[str, Any] | None:
        found = self.rows(sql, params)
        return found[0] if found else None

    def scalar(self, sql: str, params: Any = ()) -> Any:
        got = self.conn.execute(sql, params).fetchone()
        return got[0] if got else None


def dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def loads(value: str | None, default: Any = None) -> Any:
    return json.loads(value) if value else default
