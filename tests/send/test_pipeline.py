"""digest run over several lists: one list's problem does not stop the others."""

from __future__ import annotations

import json
from pathlib import Path

from tests.support import NOW
from tests.support.newsletter import setup_newsletter


def test_a_template_error_in_one_list_does_not_stop_the_others(cli, home: Path) -> None:
    setup_newsletter(cli, home)
    cli("lists", "add", "broken", "--from-email", "b@example.com")
    cli("subscribers", "add", "carol@example.com", "--list", "broken")
    (home / "templates").mkdir()
    (home / "templates" / "subject.txt.j2").write_text(
        '{% if list.name == "broken" %}{{ no_such_value }}{% endif %}{{ newsletter.name }}\n', encoding="utf-8"
    )
    result = cli("run", "--now", NOW.isoformat(), "--json", code=1)
    lists = {entry["list"]: entry for entry in json.loads(result.stdout)["lists"]}
    assert lists["main"]["sent"] == 2
    assert "subject.txt.j2" in lists["broken"]["error"] and "no_such_value" in lists["broken"]["error"]
    log = json.loads((home / "digest.log").read_text().splitlines()[-1])
    assert log["exit_code"] == 1


def test_an_earlier_edition_that_still_owes_people_is_said_every_run(cli, home: Path) -> None:
    from digest.config import load
    from digest.store import Store

    setup_newsletter(cli, home)
    cli("run", "--now", NOW.isoformat())
    with Store(load(home).db_path) as store:  # as if Bob's batch had been refused by the provider
        store.conn.execute("UPDATE sends SET status = 'failed', error = '400: bad' WHERE email = 'bob@example.org'")
    tomorrow = NOW.replace(day=NOW.day + 1).isoformat()
    [left] = json.loads(cli("run", "--now", tomorrow, "--json").stdout)["unfinished"]
    assert (left["list"], left["date"], left["failed"], left["unknown"]) == ("main", "2026-11-24", 1, 0)
    result = cli("run", "--now", tomorrow)
    assert "edition 1 of 2026-11-24 still has 1 failed" in result.stderr
    assert "digest send --list main --date 2026-11-24" in result.stderr
    cli("send", "--list", "main", "--date", "2026-11-24")
    again = cli("run", "--now", tomorrow, "--json")
    assert json.loads(again.stdout)["unfinished"] == []
