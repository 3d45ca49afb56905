"""The SQLite store: every query digest makes lives in this package.

One :class:`Store` per process, opened on ``digest.db`` in the newsletter's home. Opening it
applies pending migrations, turns on WAL and a busy timeout so cron and a person at the CLI
can use it at once. Queries are grouped by concern in the mixin modules beside this one.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from sqlite_utils import Database

from digest.errors import StoreError
from digest.store.base import QueryBase
from digest.store.editions import EditionQueries
from digest.store.events import EventQueries
from digest.store.migrations import migrations
from digest.store.people import PeopleQueries
from digest.store.ranking import RankQueries
from digest.store.renditions import RenditionQueries
from digest.store.retention import RetentionQueries
from digest.store.runs import RunQueries
from digest.store.sends import SendQueries
from digest.store.sources import SourceQueries
from digest.store.stories import StoryQueries
from digest.store.variants import VariantQueries

BUSY_TIMEOUT_S = 30.0


class Store(
    SourceQueries,
    StoryQueries,
    RankQueries,
    PeopleQueries,
    EditionQueries,
    RenditionQueries,
    VariantQueries,
    SendQueries,
    EventQueries,
    RunQueries,
    RetentionQueries,
    QueryBase,
):
    """Typed access to ``digest.db``."""

    def __init__(self, path: str | Path, *, create: bool = True) -> None:
        self.path = Path(path)
        if not create and not self.path.exists():
            raise StoreError(f"no store at {self.path}: run 'digest init' in the newsletter's home first")
        try:
            conn = sqlite3.connect(
                str(self.path), timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False
            )
            conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = NORMAL")
            conn.execute("PRAGMA foreign_keys = ON")
            self.db = Database(conn)
            migrations.apply(self.db)
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"cannot open the store {self.path}: {exc}; is it a digest.db file?") from None

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- meta ----------------------------------------------------------------------------
    def meta_get(self, key: str) -> str | None:
        return self.scalar("SELECT value FROM meta WHERE key = ?", (key,))

    def meta_set(self, key: str, value: str) -> None:
        self.conn.execute(
            "INSERT INTO meta(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            (key, value),
        )

    def applied_migrations(self) -> list[str]:
        return [m.name for m in migrations.applied(self.db)]


__all__ = ["Store"]
