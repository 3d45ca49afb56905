"""Source health for the editor's desk and ``digest doctor``: the sources failing to fetch (since when, the last
error) and the stale ones (fetching fine but bringing nothing new for ``stale_hours``: ``[collect] stale_days``)."""

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
    source: str = ""  # its name in 'digest sources list' (what commands take)
    location: str = ""
    failing_since: str | None = None  # failing: the first failure in a row (None: not known, or not failing)

    def detail(self, stale_hours: float = STALE_HOURS) -> str:
        """One line: what is wrong, since when, and what to do about it."""
        fix = f"check {self.location}, or 'digest sources remove {self.source}'"
        if self.failures:
            since = f"since {self.failing_since}" if self.failing_since else "lately"
            last = f"last success {self.since}" if self.since else "never collected successfully"
            return f"failing {since} ({self.failures} attempt(s) in a row; {last}): {self.error}; {fix}"
        newest = f"its newest story came {self.since}" if self.since else "it has brought no story"
        return f"nothing new for over {stale_hours / 24:g} day(s) ([collect] stale_days): {newest}; {fix}"


@dataclass(frozen=True, slots=True)
class SourceHealth:
    failing: tuple[SourceState, ...]
    stale: tuple[SourceState, ...]
    sources: int  # how many sources there are


def source_health(store: Store, now: datetime, stale_hours: float = STALE_HOURS) -> SourceHealth:
    """Failing sources (their last fetch failed), most failures first, and stale ones, the longest quiet first;
    ``stale_hours`` 0 calls none stale."""
    sources = store.sources()
    newest = store.newest_collected()
    cutoff = iso(now - timedelta(hours=stale_hours))
    failing, stale = [], []
    for s in sources:
        if s.consecutive_failures > 0 and s.last_error:
            failing.append(
                SourceState(
                    s.display_name,
                    s.last_success_at,
                    s.last_error,
                    s.consecutive_failures,
                    s.name,
                    s.location,
                    s.failing_since,
                )
            )
        elif stale_hours > 0 and s.last_attempt_at is not None and (newest.get(s.id) or s.created_at) < cutoff:
            stale.append(SourceState(s.display_name, newest.get(s.id), source=s.name, location=s.location))
    failing.sort(key=lambda f: (-f.failures, f.name))
    stale.sort(key=lambda f: (f.since or "", f.name))
    return SourceHealth(tuple(failing), tuple(stale), len(sources))


__all__ = ["STALE_HOURS", "SourceHealth", "SourceState", "source_health"]
