"""Queries on sources: where stories come from, and how each fetch went."""

from __future__ import annotations

from typing import Any

from digest.errors import NotFoundError, SourceError
from digest.models import iso, utcnow
from digest.store.base import QueryBase, dumps, loads


def _source(row: dict[str, Any]) -> dict[str, Any]:
    row["tags"] = loads(row["tags"], [])
    return row


class SourceQueries(QueryBase):
    def add_source(
        self, name: str, location: str, *, kind: str | None = None, weight: float = 1.0,
        tags: list[str] | None = None,
    ) -> dict[str, Any]:
        if self.scalar("SELECT 1 FROM sources WHERE name = ?", (name,)):
            raise SourceError(f"a source named '{name}' exists already; pick another --name")
        self.conn.execute(
            "INSERT INTO sources(name, location, kind, weight, tags, created_at) VALUES (?, ?, ?, ?, ?, ?)",
            (name, location, kind, weight, dumps(tags or []), iso(utcnow())),
        )
        return self.source(name)

    def source(self, name: str) -> dict[str, Any]:
        row = self.row("SELECT * FROM sources WHERE name = ?", (name,))
        if row is None:
            raise NotFoundError(f"no source named '{name}': see 'digest sources list'")
        return _source(row)

    def source_by_location(self, location: str) -> dict[str, Any] | None:
        row = self.row("SELECT * FROM sources WHERE location = ?", (location,))
        return _source(row) if row else None

    def sources(self) -> list[dict[str, Any]]:
        return [_source(r) for r in self.rows("SELECT * FROM sources ORDER BY name")]

    def remove_source(self, name: str) -> None:
        source = self.source(name)
        self.conn.execute("DELETE FROM sources WHERE id = ?", (source["id"],))

    def record_fetch(
        self, source_id: int, *, error: str | None = None, etag: str | None = None,
        last_modified: str | None = None, content_hash: str | None = None,
    ) -> None:
        """Keep the health record: last success, last error, consecutive failures."""
        now = iso(utcnow())
        if error is None:
            self.conn.execute(
                "UPDATE sources SET last_attempt_at = ?, last_success_at = ?, last_error = NULL,"
                " consecutive_failures = 0, etag = ?, last_modified = ?, content_hash = ? WHERE id = ?",
                (now, now, etag, last_modified, content_hash, source_id),
            )
        else:
            self.conn.execute(
                "UPDATE sources SET last_attempt_at = ?, last_error = ?,"
                " consecutive_failures = consecutive_failures + 1 WHERE id = ?",
                (now, error, source_id),
            )
