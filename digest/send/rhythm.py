"""A list's rhythm: its editions' dates, and which readers are due now when it has a send time.

A list with ``send_at`` (HH:MM) is sent reader by reader: on each ``digest run`` (hourly from cron), a reader
whose local time (their ``timezone`` attribute, else the list's) has passed ``send_at`` on their local date is
due for that day's edition (see :func:`plan`), unless they had it, or any edition of the list since their local
day began. The list's own timezone (``timezone``, else ``[digest] timezone``) dates its editions and says which
day a weekly list's is. Only :func:`digest.clock.now` (passed in as ``now``) says what time it is.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from digest import consent
from digest.config import Config
from digest.models import Due, MailingList, iso
from digest.schedule import WEEKDAYS
from digest.store import Store

# A reader's local day never reaches further back than this many of the list's dates: zones lie within 26
# hours of each other (UTC-12 to UTC+14), so their sends today belong to editions dated no earlier.
_RECENT_DAYS = 2


def list_zone(config: Config, lst: MailingList) -> str:
    """The list's timezone: its own, else ``[digest] timezone``."""
    return lst.timezone or config.settings.timezone


def list_date(config: Config, lst: MailingList, now: datetime) -> str:
    """The date (ISO) of the list's edition built at ``now``: today in the list's timezone."""
    return now.astimezone(_zone(list_zone(config, lst))).date().isoformat()


def is_its_day(config: Config, lst: MailingList, now: datetime) -> bool:
    """Whether ``now`` falls on the list's day: every day for a daily list, its weekday (list's zone) for a weekly."""
    if not lst.weekday:
        return True
    return WEEKDAYS[now.astimezone(_zone(list_zone(config, lst))).weekday()] == lst.weekday


def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def _send_time(lst: MailingList) -> time:
    hour, minute = lst.send_at.split(":")
    return time(int(hour), int(minute))


def past_send_at(lst: MailingList, zone: ZoneInfo, now: datetime) -> bool:
    """Whether the local time in ``zone`` has reached the list's ``send_at`` today (wall-clock reading, so a
    send time inside a DST gap counts as reached once the clock has jumped past it)."""
    return now.astimezone(zone).time() >= _send_time(lst)


def day_start(zone: ZoneInfo, now: datetime) -> datetime:
    """When the local day of ``now`` in ``zone`` began (a UTC-comparable aware time)."""
    return datetime.combine(now.astimezone(zone).date(), time(0), tzinfo=zone)


@dataclass(frozen=True)
class Plan:
    """What ``digest run`` does at ``now`` with a list that has a send time."""

    today: str  # the list's date (its zone)
    build: bool  # build today's edition now, unless it is built
    due: dict[str, Due]  # edition date -> the readers due for that edition now
    waiting: int  # readers whose local send time has not come yet today


def plan(store: Store, config: Config, lst: MailingList, now: datetime) -> Plan | None:
    """Who of the list is due at ``now`` and for which edition; None for a list without ``send_at`` (everyone
    owed the edition is sent it whenever ``digest run`` runs).

    A reader's local date L, in their zone, has one edition: the list's edition dated by the list's zone at the
    moment L reached ``send_at`` there. So each local day maps to one edition, and a reader ahead of the list's
    zone (Kiritimati for a Paris list) gets the edition the list dated the day before, at their own 07:00, and
    one behind it by more than a day's hours at the send time (Los Angeles for a Kiritimati list) gets
    tomorrow's. Today's edition is built once its first reader is due, or the list's own send time has come.
    """
    if not lst.send_at:
        return None
    default = list_zone(config, lst)
    own = _zone(default)
    at = _send_time(lst)
    today = now.astimezone(own).date()
    zones = store.reader_zones(lst.id, consent.receiving(lst), default)
    by_date: dict[str, list[tuple[str, str]]] = {}
    waiting = 0
    for name, count in sorted(zones.items()):
        try:
            zone = _zone(name)
        except (ZoneInfoNotFoundError, ValueError):
            zone = own  # an attribute no zone database knows: the list's zone, never an error mid-run
        local = now.astimezone(zone)
        if local.time() < at:
            waiting += count
            continue
        moment = datetime.combine(local.date(), at, tzinfo=zone)  # in a DST gap: the instant the clock jumped
        edition_date = moment.astimezone(own).date().isoformat()
        by_date.setdefault(edition_date, []).append((name, iso(day_start(zone, now)) or ""))
    first = (today - timedelta(days=_RECENT_DAYS)).isoformat()
    recent = tuple(store.recent_editions(lst.id, first))
    build = is_its_day(config, lst, now) and (today.isoformat() in by_date or past_send_at(lst, own, now))
    due = {day: Due(default, tuple(zs), recent, waiting) for day, zs in by_date.items()}
    return Plan(today.isoformat(), build, due, waiting)
