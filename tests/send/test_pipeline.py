"""digest run over several lists: one list's problem does not stop the others."""

from __future__ import annotations

import json
from pathlib import Path

from digest.collect import CollectReport
from digest.pipeline import ListRun, RunReport
from digest.send import SendReport
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


def test_each_list_outcome_keeps_its_json_keys_and_sets_the_exit_code() -> None:
    sent = SendReport(edition=3, provider="outbox", sent=2)
    done = ListRun("main", 3, "2026-11-24", sent=sent, web_copy=Path("outbox/edition-3.html"))
    assert list(done.as_dict()) == [
        *("list", "edition", "date", "provider", "sent", "skipped", "paused", "waiting", "failed", "unknown"),
        "requests",
        *("retried", "resolved", "dry_run", "halted", "errors", "variants", "weekly", "empty", "notes"),
        "web_copy",
    ]
    assert done.as_dict()["web_copy"] == str(Path("outbox/edition-3.html"))
    assert ListRun("main", skipped="nothing new").as_dict() == {"list": "main", "skipped": "nothing new"}
    assert ListRun("main", halted=True).as_dict() == {"list": "main", "halted": True}
    assert ListRun("main", not_due="nobody's 07:00 yet").as_dict() == {"list": "main", "not_due": "nobody's 07:00 yet"}
    assert ListRun("main", error="bad template").as_dict() == {"list": "main", "error": "bad template"}
    locked = ListRun("main", 3, "2026-11-24", error="locked")
    assert locked.as_dict() == {"list": "main", "edition": 3, "date": "2026-11-24", "error": "locked"}

    assert RunReport(CollectReport(), [done, ListRun("other", skipped="nothing new")]).exit_code == 0
    unknown = ListRun("main", 3, "2026-11-24", sent=SendReport(edition=3, provider="outbox", unknown=1))
    assert RunReport(CollectReport(), [done, unknown]).exit_code == 3
    assert RunReport(CollectReport(), [ListRun("main", halted=True)]).exit_code == 3
    assert RunReport(CollectReport(), [unknown, locked]).exit_code == 1
