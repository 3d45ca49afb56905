"""Hourly `digest run`s over days: each reader gets a list with a send time at their own 07:00, once per local day;
weekly lists go once, on their day. The clock is pinned for every run; the machine's zone never matters."""

from __future__ import annotations

import time as time_mod
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from digest import clock, pipeline
from digest.config import load
from digest.store import Store

READERS = {
    "la@example.com": "America/Los_Angeles",
    "paris@example.com": "Europe/Paris",
    "kiri@example.com": "Pacific/Kiritimati",  # UTC+14: its mornings come first, a calendar day ahead of Los Angeles
    "pago@example.com": "Pacific/Pago_Pago",  # UTC-11: the other side of the date line
}


@pytest.fixture
def machine_zone(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The machine's own timezone (TZ) for the test: nothing may depend on it."""
    monkeypatch.setenv("TZ", request.param)
    time_mod.tzset()
    yield
    monkeypatch.undo()
    time_mod.tzset()


def feed(upto: datetime, hours: int = 96) -> str:
    """A feed with one story an hour up to ``upto``: every hour has something new, none alike."""
    items = []
    for k in range(hours):
        at = upto - timedelta(hours=k)
        n = int(at.timestamp()) // 3600
        words = " ".join(f"w{n}x{j}" for j in range(5))
        items.append(
            f"<item><title>Story {words}</title><link>https://news.example/{n}</link><guid>s{n}</guid>"
            f"<pubDate>{format_datetime(at)}</pubDate><description>About {words}.</description></item>"
        )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Hourly</title>'
        f"<link>https://news.example/</link>{''.join(items)}</channel></rss>"
    )


def newsletter(cli, home: Path, start: datetime, *list_options: str) -> None:
    (home / "news.xml").write_text(feed(start), encoding="utf-8")
    cli("init")
    cli("sources", "add", str(home / "news.xml"), "--name", "hourly")
    cli("lists", "add", "morning", "--from-email", "news@example.com", "--address", "1 Quay St", *list_options)
    for email, zone in READERS.items():
        cli("subscribers", "add", email, "--list", "morning", "--timezone", zone)
    cli("subscribers", "add", "plain@example.com", "--list", "morning")  # no zone of their own: the list's


def run_hourly(home: Path, start: datetime, hours: int) -> list[tuple[str, str, datetime]]:
    """``digest run`` at every hour from ``start`` (clock pinned, the feed grown), then every send row:
    (email, edition date, when it was claimed)."""
    config = load(home)
    with Store(config.db_path) as store:
        for h in range(hours):
            at = start + timedelta(hours=h)
            (home / "news.xml").write_text(feed(at), encoding="utf-8")
            with clock.pinned(at):
                report = pipeline.run(store, config, now=at)
            assert report.exit_code == 0, report.as_dict()
        rows = store.conn.execute(
            "SELECT s.email, e.date, s.created_at, s.status FROM sends s JOIN editions e ON e.id = s.edition_id"
            " ORDER BY s.created_at, s.email"
        ).fetchall()
    assert {r[3] for r in rows} <= {"sent"}
    return [(r[0], r[1], datetime.fromisoformat(r[2].replace("Z", "+00:00"))) for r in rows]


def mornings(zone: str, start: datetime, hours: int) -> list[datetime]:
    """The hourly runs that fall at 07:00 local time in ``zone`` (whole-hour offsets: one per local day)."""
    runs = (start + timedelta(hours=h) for h in range(hours))
    return [t for t in runs if t.astimezone(ZoneInfo(zone)).strftime("%H:%M") == "07:00"]


def check_mornings(sends: list[tuple[str, str, datetime]], list_zone: str, start: datetime, hours: int) -> None:
    """After the first run, each reader's sends are exactly the runs at their 07:00; the first run may catch up a
    reader whose 07:00 had passed, on a local day that then gets nothing else."""
    for email, zone in {**READERS, "plain@example.com": list_zone}.items():
        got = [when for who, _, when in sends if who == email]
        later = [when for when in got if when > start]
        assert later == [m for m in mornings(zone, start, hours) if m > start], (email, zone, got)
        if got[0] == start:
            assert start.astimezone(ZoneInfo(zone)).strftime("%H:%M") >= "07:00", (email, zone, got)
        days = [when.astimezone(ZoneInfo(zone)).date() for when in got]
        assert len(days) == len(set(days)) and len(later) >= 2, (email, days)  # one a local day, two days or more


@pytest.mark.parametrize("machine_zone", ["UTC", "Pacific/Kiritimati"], indirect=True)
@pytest.mark.parametrize(
    ("list_zone", "start"),
    [
        ("Europe/Paris", datetime(2026, 3, 28, 0, 0, tzinfo=UTC)),  # Paris moves to summer time on the 29th
        ("America/Los_Angeles", datetime(2026, 10, 31, 0, 0, tzinfo=UTC)),  # Los Angeles leaves it on 1 November
        ("Pacific/Kiritimati", datetime(2026, 11, 24, 0, 0, tzinfo=UTC)),  # the list's day begins before UTC's
    ],
)
def test_each_reader_gets_one_edition_a_local_day_at_the_first_run_after_their_seven(
    cli, home: Path, machine_zone: None, list_zone: str, start: datetime
) -> None:
    newsletter(cli, home, start, "--send-at", "07:00", "--timezone", list_zone)
    sends = run_hourly(home, start, 48)
    check_mornings(sends, list_zone, start, 48)
    # each edition is dated by the list's zone on the day it went out, and built once for that date
    for _, day, when in sends:
        assert day == when.astimezone(ZoneInfo(list_zone)).date().isoformat()


def test_a_list_without_a_send_time_still_goes_to_everyone_at_each_run(cli, home: Path) -> None:
    start = datetime(2026, 11, 24, 0, 0, tzinfo=UTC)
    newsletter(cli, home, start)
    sends = run_hourly(home, start, 2)
    assert len(sends) == 5 and {when for *_, when in sends} == {start}  # all at the first run, as before


def test_a_weekly_list_goes_once_on_its_day_in_its_timezone_to_every_reader(cli, home: Path) -> None:
    start = datetime(2026, 11, 25, 0, 0, tzinfo=UTC)  # a Wednesday; Friday is the 27th
    newsletter(cli, home, start, "--send-at", "07:00", "--timezone", "Europe/Paris", "--weekday", "friday")
    sends = run_hourly(home, start, 4 * 24)
    paris = ZoneInfo("Europe/Paris")
    assert sorted(who for who, *_ in sends) == sorted([*READERS, "plain@example.com"])  # once each
    assert {day for _, day, _ in sends} == {"2026-11-27"}
    for who, _, when in sends:
        assert when.astimezone(paris).strftime("%A") == "Friday", (who, when)
        zone = READERS.get(who, "Europe/Paris")
        assert when.astimezone(ZoneInfo(zone)).strftime("%H:%M") == "07:00", (who, when)


def test_a_weekly_edition_ranks_the_week_and_leaves_out_what_earlier_editions_sent(cli, home: Path) -> None:
    start = datetime(2026, 11, 27, 0, 0, tzinfo=UTC)  # Friday
    newsletter(cli, home, start, "--weekday", "friday")  # no send time: it goes at the first run on its day
    config = load(home)
    with Store(config.db_path) as store:
        lst = store.list_("morning")
        assert pipeline.rank_settings(config, lst).window_hours == 7 * 24
        with clock.pinned(start):
            first = pipeline.run(store, config, now=start)
        [done] = first.lists
        assert done.sent is not None and done.sent.sent == 5
        earlier = {s.story_id for s in store.edition_stories(done.edition or 0)}
        week_on = start + timedelta(days=7)
        (home / "news.xml").write_text(feed(week_on, hours=8 * 24), encoding="utf-8")
        with clock.pinned(week_on):
            second = pipeline.run(store, config, now=week_on)
        [again] = second.lists
        assert again.date == "2026-12-04" and again.edition != done.edition
        stories = store.edition_stories(again.edition or 0)
        assert stories and not earlier & {s.story_id for s in stories}
        # on any other day, nothing is built or sent
        with clock.pinned(week_on + timedelta(days=1)):
            [other] = pipeline.run(store, config, now=week_on + timedelta(days=1)).lists
        assert other.not_due and "fridays" in other.not_due and other.edition is None


def test_an_edition_dated_by_a_list_ahead_of_the_configured_zone_is_in_the_archive_once_sent(cli, home: Path) -> None:
    from digest.render.archive import entries

    start = datetime(2026, 11, 24, 17, 0, tzinfo=UTC)  # 07:00 on the 25th in Kiritimati; UTC is on the 24th
    newsletter(cli, home, start, "--send-at", "07:00", "--timezone", "Pacific/Kiritimati")
    config = load(home)
    assert config.settings.timezone == "UTC"
    with Store(config.db_path) as store, clock.pinned(start):
        [sent] = pipeline.run(store, config, now=start).lists
        assert sent.date == "2026-11-25" and sent.sent is not None and sent.sent.sent >= 1
        assert [e["date"] for e in entries(store, config)] == ["2026-11-25"]


def test_a_half_hour_zone_gets_it_at_the_first_run_after_its_seven_and_an_unknown_zone_at_the_lists(
    cli, home: Path
) -> None:
    start = datetime(2026, 11, 24, 0, 0, tzinfo=UTC)
    newsletter(cli, home, start, "--send-at", "07:00", "--timezone", "Europe/Paris")
    cli("subscribers", "add", "delhi@example.com", "--list", "morning", "--timezone", "Asia/Kolkata")  # UTC+5:30
    cli("subscribers", "add", "odd@example.com", "--list", "morning", "--attributes", '{"timezone": "Mars/Olympus"}')
    sends = run_hourly(home, start, 48)
    delhi = [when for who, _, when in sends if who == "delhi@example.com"]
    local = [when.astimezone(ZoneInfo("Asia/Kolkata")).strftime("%d %H:%M") for when in delhi]
    assert local == ["24 07:30", "25 07:30"]  # the hourly runs fall at :30 there
    odd = [when for who, _, when in sends if who == "odd@example.com"]
    assert [when.astimezone(ZoneInfo("Europe/Paris")).strftime("%d %H:%M") for when in odd] == ["24 07:00", "25 07:00"]
