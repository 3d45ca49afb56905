"""Where a reader's timezone and topics come from (subscribers add, import), and what `digest schedule` says."""

from __future__ import annotations

import json
from pathlib import Path

from digest.config import load
from digest.store import Store


def test_subscribers_add_keeps_timezone_and_topics_as_an_import_does(cli, initialised: Path) -> None:
    cli("lists", "add", "main", "--from-email", "news@example.com")
    cli("subscribers", "add", "ada@example.com", "--attributes", '{"team": "engines"}')
    cli("subscribers", "add", "ada@example.com", "--timezone", "Europe/Paris", "--topic", "science", "--topic", "tech")
    (initialised / "r.csv").write_text("email,timezone,tags\nbob@example.org,Pacific/Kiritimati,science\n")
    cli("subscribers", "import", str(initialised / "r.csv"))
    with Store(load(initialised).db_path) as store:
        ada, bob = store.subscriber("ada@example.com"), store.subscriber("bob@example.org")
    assert ada.attributes == {"team": "engines", "timezone": "Europe/Paris", "topics": ["science", "tech"]}
    assert bob.attributes["timezone"] == "Pacific/Kiritimati"
    bad = cli("subscribers", "add", "cy@example.com", "--timezone", "Mars/Olympus", code=1)
    assert "unknown timezone 'Mars/Olympus'" in bad.stderr and len(bad.stderr.strip().splitlines()) == 1


def test_schedule_hourly_says_lists_send_times_and_timezones_are_honoured(cli, initialised: Path) -> None:
    cli("lists", "add", "main", "--from-email", "news@example.com")
    cli("lists", "add", "paris", "--from-email", "p@example.com", "--send-at", "07:00", "--timezone", "Europe/Paris")
    cli("lists", "add", "week", "--from-email", "w@example.com", "--weekday", "friday", "--timezone", "Asia/Tokyo")
    hourly = cli("schedule", "--hourly")
    assert hourly.stdout.startswith("0 * * * * cd ")
    assert "send times and timezones are honoured" in hourly.stderr
    assert "paris: daily, at 07:00 in each reader's timezone (else Europe/Paris)" in hourly.stderr
    assert "week: fridays (Asia/Tokyo), at the first run after 00:00 in Asia/Tokyo" in hourly.stderr
    assert "--send-at 07:00" in hourly.stderr  # and how to give it a morning hour
    daily = cli("schedule", "--at", "07:00", "--json")
    lists = {r["list"]: r for r in json.loads(daily.stdout)["lists"]}
    assert lists["paris"]["timezone"] == "Europe/Paris" and lists["paris"]["runs_at"]
    assert "need 'digest schedule --hourly'" in lists["paris"]["note"]
    assert lists["main"]["timezone"] == "UTC"
