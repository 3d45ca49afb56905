"""Queries on sources: where stories come from, and how each fetch went."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from digest import clock
from digest.errors import NotFoundError, SourceError
from digest.models import Source, iso
from digest.store.base import QueryBase, dumps, loads

# What readers see of a source, as SQL on a joined ``sources`` table: the editor's title, else the feed's own
DISPLAY_NAME = "coalesce(nullif(sources.title, ''), nullif(sources.feed_title, ''), sources.name)"
# What readers see (emails, web copies): never a name the editor's machine made up, such as a text file's
# stem; a local document with no title of its own shows no source until the editor gives it one.
READER_NAME = (
    "coalesce(nullif(sources.title, ''), nullif(sources.feed_title, ''),"
    " CASE WHEN sources.location LIKE 'http%' THEN sources.name END, '')"
)


def _source(row: dict[str, Any]) -> Source:
    return Source(
        id=row["id"],
        name=row["name"],
        location=row["location"],
        kind=row["kind"],
        weight=row["weight"],
        tags=tuple(loads(row["tags"], [])),
        created_at=row["created_at"],
        etag=row["etag"],
        last_modified=row["last_modified"],
        content_hash=row["content_hash"],
        last_attempt_at=row["last_attempt_at"],
        last_success_at=row["last_success_at"],
        last_error=row["last_error"],
        consecutive_failures=row["consecutive_failures"],
        last_warning=row["last_warning"],
        last_count=row["last_count"],
        title=row["title"],
        feed_title=row["feed_title"],
        site=row["site"],
        failing_since=row["failing_since"],
    )


class SourceQueries(QueryBase):
    def add_source(
        self,
        name: str,
        location: str,
        *,
        kind: str | None = None,
        weight: float = 1.0,
        tags: list[str] | None = None,
        title: str = "",
        feed_title: str = "",
    ) -> Source:
        if self.scalar("SELECT 1 FROM sources WHERE name = ?", (name,)):
            raise SourceError(f"a source named '{name}' exists already; pick another --name")
        taken = self.scalar("SELECT name FROM sources WHERE location = ?", (location,))
        if taken:
            raise SourceError(f"{location} is already the source '{taken}': see 'digest sources list'")
        self.conn.execute(
            "INSERT INTO sources(name, location, kind, weight, tags, created_at, title, feed_title)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (name, location, kind, weight, dumps(tags or []), iso(clock.now()), title, feed_title),
        )
        return self.source(name)

    def free_source_name(self, *candidates: str) -> str:
        """The first candidate no source has, else the first with the lowest free ``-2``, ``-3`` … suffix."""
        wanted = [c for c in candidates if c] or ["source"]
        for name in wanted:
            if not self.scalar("SELECT 1 FROM sources WHERE name = ?", (name,)):
                return name
        n = 2
        while self.scalar("SELECT 1 FROM sources WHERE name = ?", (f"{wanted[0]}-{n}",)):
            n += 1
        return f"{wanted[0]}-{n}"

    def edit_source(
        self,
        name: str,
        *,
        title: str | None = None,
        weight: float | None = None,
        tags: list[str] | None = None,
        rename: str | None = None,
    ) -> Source:
        """Change what the editor set; a rename keeps the source's id, so its stories stay attached."""
        source = self.source(name)
        if rename is not None and rename != name:
            if not rename.strip():
                raise SourceError("--rename needs a non-empty name")
            if self.scalar("SELECT 1 FROM sources WHERE name = ?", (rename,)):
                raise SourceError(f"a source named '{rename}' exists already; pick another name for --rename")
        changes = {
            "title": title.strip() if title is not None else None,
            "weight": weight,
            "tags": dumps(tags) if tags is not None else None,
            "name": rename,
        }
        sets = {k: v for k, v in changes.items() if v is not None}
        with self.transaction():
            if sets:
                self.conn.execute(
                    f"UPDATE sources SET {', '.join(f'{k} = ?' for k in sets)} WHERE id = ?",
                    (*sets.values(), source.id),
                )
            if rename is not None and rename != name:
                # lists name the sources they draw from: they follow the rename
                for list_id, names in self.conn.execute("SELECT id, sources FROM lists").fetchall():
                    kept = loads(names, [])
                    if name in kept:
                        renamed = [rename if n == name else n for n in kept]
                        self.conn.execute("UPDATE lists SET sources = ? WHERE id = ?", (dumps(renamed), list_id))
        return self.source(rename or name)

    def source(self, name: str) -> Source:
        row = self.row("SELECT * FROM sources WHERE name = ?", (name,))
        if row is None:
            raise NotFoundError(f"no source named '{name}': see 'digest sources list'")
        return _source(row)

    def source_by_location(self, location: str) -> Source | None:
        row = self.row("SELECT * FROM sources WHERE location = ?", (location,))
        return _source(row) if row else None

    def source_sites(self) -> dict[int, str]:
        """``source id -> outlet``: the site's host when known (one publication in several formats shares it)."""
        return {int(r[0]): r[1] or f"source:{r[0]}" for r in self.conn.execute("SELECT id, site FROM sources")}

    def scope_source_ids(self, names: Iterable[str] = (), tags: Iterable[str] = ()) -> frozenset[int] | None:
        """Ids of the sources a list draws from: those named in ``names`` and those carrying any of ``tags``
        (tags compared case-insensitively). ``None`` when both are empty: the list draws from every source."""
        wanted_names, wanted_tags = set(names), {t.casefold() for t in tags}
        if not wanted_names and not wanted_tags:
            return None
        return frozenset(
            int(r[0])
            for r in self.conn.execute("SELECT id, name, tags FROM sources")
            if r[1] in wanted_names or wanted_tags & {str(t).casefold() for t in loads(r[2], [])}
        )

    def sources(self) -> list[Source]:
        return [_source(r) for r in self.rows("SELECT * FROM sources ORDER BY name")]

    def remove_source(self, name: str) -> Source:
        """Forget a source; its stories stay in the store (editions may point at them)."""
        source = self.source(name)
        with self.transaction():
            self.conn.execute("UPDATE stories SET source_id = NULL WHERE source_id = ?", (source.id,))
            self.conn.execute("UPDATE story_identities SET source_id = NULL WHERE source_id = ?", (source.id,))
            self.conn.execute("DELETE FROM sources WHERE id = ?", (source.id,))
        return source

    def newest_collected(self) -> dict[int, str]:
        """``source id -> when its newest story was first stored`` (ISO), for sources that brought any."""
        rows = self.conn.execute(
            "SELECT source_id, MAX(collected_at) FROM stories WHERE source_id IS NOT NULL GROUP BY source_id"
        )
        return {int(r[0]): str(r[1]) for r in rows}

    def source_story_count(self, source_id: int) -> int:
        """Stories one source holds (an indexed count: costs the source's size, not the store's)."""
        return int(self.scalar("SELECT count(*) FROM stories WHERE source_id = ?", (source_id,)))

    def source_story_counts(self) -> dict[int, int]:
        return {
            int(r[0]): int(r[1])
            for r in self.conn.execute(
                "SELECT source_id, count(*) FROM stories WHERE source_id IS NOT NULL GROUP BY source_id"
            )
        }

    def record_fetch(
        self,
        source_id: int,
        *,
        error: str | None = None,
        etag: str | None = None,
        last_modified: str | None = None,
        content_hash: str | None = None,
        kind: str | None = None,
        warning: str | None = None,
        not_modified: bool = False,
        now: datetime | None = None,
        feed_title: str | None = None,
        site: str | None = None,
    ) -> None:
        """Keep the health record: last success, last error (or warning), consecutive failures."""
        when = iso(now or clock.now())
        if error is not None:
            self.conn.execute(
                "UPDATE sources SET last_attempt_at = ?, last_error = ?, failing_since = coalesce(failing_since, ?),"
                " consecutive_failures = consecutive_failures + 1 WHERE id = ?",
                (when, error, when, source_id),
            )
        elif not_modified:
            self.conn.execute(
                "UPDATE sources SET last_attempt_at = ?, last_success_at = ?, last_error = NULL,"
                " failing_since = NULL, consecutive_failures = 0, etag = coalesce(?, etag),"
                " last_modified = coalesce(?, last_modified)"
                " WHERE id = ?",
                (when, when, etag, last_modified, source_id),
            )
        else:
            self.conn.execute(
                "UPDATE sources SET last_attempt_at = ?, last_success_at = ?, last_error = NULL,"
                " failing_since = NULL, consecutive_failures = 0, etag = ?, last_modified = ?, content_hash = ?,"
                " kind = coalesce(?, kind), last_warning = ?, feed_title = coalesce(?, feed_title),"
                " site = coalesce(?, site) WHERE id = ?",
                (when, when, etag, last_modified, content_hash, kind, warning, feed_title, site, source_id),
            )
