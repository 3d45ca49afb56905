"""What the web app's route modules share."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from digest.config import Config
from digest.store import Store


@contextmanager
def open_store(config: Config) -> Iterator[Store]:
    """One store connection per request (SQLite connections are cheap; threads never share one)."""
    store = Store(config.db_path, create=False)
    try:
        yield store
    finally:
        store.close()
