"""Source health for the editor's desk: the sources failing to fetch (since when, the last error) and the stale
ones (fetching fine but bringing nothing new for ``stale_hours``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from digest.models import iso
from digest.store import Store

STALE_HOURS = 72.0


@dataclass(frozen=True, slots=True)
class SourceState:
    name: str  # the display name
    since: str | None  # failing: its last success (None: never); stale: its newest story (None: none yet)
    error: str = ""
    failures: int = 0


@dataclass(frozen=True, slots=True)
class SourceHealth:
    failing: tuple[SourceState, ...]
    stale: tuple[SourceState, ...]
    sources: int  # how many sources there are


def source_health(store: Store, now: datetime, stale_hours: float = STALE_HOURS) -> SourceHealth:
    """Failing sources (their last fetch failed), most failures first, and stale ones, the longest quiet first."""
    sources = store.sources()
    newest = store.newest_collected()
    cutoff = iso(now - timedelta(hours=stale_hours))
    failing, stale = [], []
    for s in sources:
        if s.consecutive_failures > 0 and s.last_error:
            failing.append(SourceState(s.display_name, s.last_success_at, s.last_error, s.consecutive_failures))
        elif s.last_attempt_at is not None and (newest.get(s.id) or s.created_at) < cutoff:
            stale.append(SourceState(s.display_name, newest.get(s.id)))
    failing.sort(key=lambda f: (-f.failures, f.name))
    stale.sort(key=lambda f: (f.since or "", f.name))
    return SourceHealth(tuple(failing), tuple(stale), len(sources))


__all__ = ["STALE_HOURS", "SourceHealth", "SourceState", "source_health"]
