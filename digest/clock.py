"""The one place digest reads the time.

Everything that decides "today" (which edition to build, what counts as recent, the dates on
records) asks :func:`now`. It is the wall clock unless pinned: by ``DIGEST_NOW`` (an ISO time, for
replaying a day or backfilling from cron) or in-process by :func:`pinned` (tests). Lock heartbeats
measure elapsed time between processes and so read :func:`wall`, which is never pinned.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from digest.errors import ConfigError

_override: Callable[[], datetime] | None = None


def wall() -> datetime:
    """The machine's clock in UTC, to the second: for elapsed-time checks only (lock heartbeats, file ages)."""
    return datetime.now(UTC).replace(microsecond=0)


def parse(value: str, what: str = "DIGEST_NOW") -> datetime:
    """An ISO date or time; naive values are UTC. A bad value names ``what`` and the form wanted."""
    try:
        dt = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ConfigError(
            f"{what} {value!r} is not an ISO date or time; use e.g. 2026-11-24 or 2026-11-24T07:00:00Z"
        ) from None
    return (dt if dt.tzinfo else dt.replace(tzinfo=UTC)).astimezone(UTC).replace(microsecond=0)


def now() -> datetime:
    """The current time as digest sees it (UTC, to the second)."""
    if _override is not None:
        return _override()
    pinned_at = os.environ.get("DIGEST_NOW")
    if pinned_at:
        return parse(pinned_at)
    return wall()


def local_date(timezone: str, at: datetime | None = None) -> str:
    """The date (ISO) it is in ``timezone`` at ``at`` (default :func:`now`): the one derivation of "today".

    Editions are dated by it, and the archive shows an edition once its date has come, by the same rule.
    """
    try:
        zone = ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"timezone '{timezone}' is unknown; use an IANA name like 'Europe/Paris' or 'UTC'") from None
    return (at or now()).astimezone(zone).date().isoformat()


@contextmanager
def pinned(at: datetime) -> Iterator[None]:
    """Within the block, :func:`now` answers ``at`` (tests; replays inside one process)."""
    global _override
    previous = _override
    fixed = (at if at.tzinfo else at.replace(tzinfo=UTC)).astimezone(UTC).replace(microsecond=0)
    _override = lambda: fixed  # noqa: E731
    try:
        yield
    finally:
        _override = previous
