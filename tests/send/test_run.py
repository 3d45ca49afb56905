"""`digest run` as cron calls it (exit codes, the log) and `digest schedule`, with the SendGrid stand-in."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import NOW
from tests.support.send import API_KEY, email_of, ledger, make_edition, open_store, sendgrid_env
from tests.support.sendgrid_standin import StandIn

FEED = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Town</title><link>https://town.example/</link>
<item><title>Market moves to the square</title><link>https://town.example/market</link>
<guid>market-1</guid><pubDate>Tue, 24 Nov 2026 05:00:00 GMT</pubDate><description>From Monday.</description></item>
</channel></rss>
"""


@pytest.fixture
def standin() -> Iterator[StandIn]:
    with StandIn() as s:
        yield s


@pytest.fixture
def newsletter(cli, initialised: Path, standin: StandIn, monkeypatch: pytest.MonkeyPatch) -> Path:
    for k, v in sendgrid_env(standin.url, DIGEST_SENDGRID_TIMEOUT="0.5").items():
        monkeypatch.setenv(k, v)
    (initialised / "town.xml").write_text(FEED, encoding="utf-8")
    cli("sources", "add", str(initialised / "town.xml"), "--name", "town")
    cli("lists", "add", "main", "--from-email", "news@example.com", "--address", "1 Quay St, Harbor City")
    for i in range(1, 6):
        cli("subscribers", "add", email_of(i), "--list", "main")
    return initialised


def log_lines(home: Path) -> list[dict]:
    return [json.loads(line) for line in (home / "digest.log").read_text().splitlines()]


def test_run_sends_through_sendgrid_and_a_rerun_sends_nothing(cli, newsletter: Path, standin: StandIn) -> None:
    first = json.loads(cli("run", "--now", NOW.isoformat(), "--json").stdout)
    assert first["exit_code"] == 0
    (entry,) = first["lists"]
    assert (entry["provider"], entry["sent"], entry["requests"]) == ("sendgrid", 5, 1)
    second = json.loads(cli("run", "--now", NOW.isoformat(), "--json").stdout)
    assert (second["lists"][0]["sent"], second["lists"][0]["skipped"]) == (0, 5)
    assert sorted(standin.addresses()) == [email_of(i) for i in range(1, 6)]
    assert [line["exit_code"] for line in log_lines(newsletter)] == [0, 0]
    assert log_lines(newsletter)[0]["lists"][0]["sent"] == 5


def test_run_exit_1_when_the_key_is_refused_and_the_log_says_why(
    cli, newsletter: Path, standin: StandIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SENDGRID_API_KEY", "SG.revoked-key-value")
    result = cli("run", "--now", NOW.isoformat(), code=1)
    assert "SENDGRID_API_KEY" in result.stderr and "Traceback" not in result.stderr
    assert "revoked-key-value" not in result.stderr + (newsletter / "digest.log").read_text()
    (line,) = log_lines(newsletter)
    assert line["exit_code"] == 1 and "401" in line["lists"][0]["error"]
    monkeypatch.setenv("SENDGRID_API_KEY", API_KEY)  # fixed: the next run sends everyone once
    assert json.loads(cli("run", "--now", NOW.isoformat(), "--json").stdout)["lists"][0]["sent"] == 5
    assert len(standin.addresses()) == 5


def test_run_exit_3_when_a_batch_is_unknown(cli, newsletter: Path, standin: StandIn) -> None:
    standin.then("hang")
    report = json.loads(cli("run", "--now", NOW.isoformat(), "--json", code=3).stdout)
    assert report["lists"][0]["unknown"] == 5 and report["exit_code"] == 3
    assert log_lines(newsletter)[-1]["exit_code"] == 3
    again = json.loads(cli("run", "--now", NOW.isoformat(), "--json", code=3).stdout)  # still reported, not re-sent
    assert (again["lists"][0]["sent"], again["lists"][0]["unknown"]) == (0, 5)
    assert standin.accepted == []


@pytest.mark.slow
def test_sigterm_lets_the_batches_in_flight_finish_records_them_and_a_rerun_sends_the_rest(
    initialised: Path, cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    with StandIn(delay=0.4) as standin:
        with open_store(initialised) as store:
            edition = make_edition(store, 400)
        env = dict(os.environ)  # conftest already cleared DIGEST_* but for the suite's pinned DIGEST_NOW
        env.update(
            sendgrid_env(
                standin.url, DIGEST_HOME=str(initialised), DIGEST_SEND_BATCH_SIZE="50", DIGEST_SEND_CONCURRENCY="2"
            )
        )
        proc = subprocess.Popen(
            [sys.executable, "-c", "from digest.cli import main; main()", "send"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            deadline = time.monotonic() + 20
            while len(standin.requests) < 3:
                assert time.monotonic() < deadline
                time.sleep(0.01)
            proc.send_signal(signal.SIGTERM)
            _, err = proc.communicate(timeout=20)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.communicate()
        assert proc.returncode == 3 and "Stopping after the batches in flight" in err and "again" in err
        with open_store(initialised) as store:
            statuses = {r["status"] for r in ledger(store, edition)}
            sent = {r["email"] for r in ledger(store, edition, "sent")}
            assert store.scalar("SELECT count(*) FROM locks") == 0
        assert statuses == {"sent"}  # nothing left in flight or unknown
        assert sent == set(standin.addresses()) and 0 < len(sent) < 400

        standin.delay = 0
        for k, v in sendgrid_env(standin.url).items():
            monkeypatch.setenv(k, v)
        report = json.loads(cli("send", "--json").stdout)
        assert (report["sent"], report["skipped"], report["unknown"]) == (400 - len(sent), len(sent), 0)
        assert sorted(standin.addresses()) == [email_of(i) for i in range(1, 401)]


def test_schedule_prints_the_crontab_line_with_absolute_paths(cli, initialised: Path) -> None:
    line = cli("schedule", "--at", "07:30").stdout.strip()
    assert line.startswith("30 7 * * * cd ") and f"DIGEST_HOME={initialised}" in line
    exe = line.split(" run >> ")[0].rsplit(" ", 1)[1]
    assert Path(exe).is_absolute() and Path(exe).name == "digest"
    assert f">> {initialised / 'cron.log'} 2>&1" in line  # digest.log keeps one JSON line per run
    data = json.loads(cli("schedule", "--at", "6:05", "--json").stdout)
    assert data["line"].startswith("5 6 * * * ") and data["installed"] is False
    assert "HH:MM" in cli("schedule", "--at", "25:00", code=1).stderr


def test_schedule_install_replaces_its_own_line(
    cli, initialised: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A stand-in crontab binary on PATH keeps the table in a file."""
    table = tmp_path / "crontab.txt"
    table.write_text("0 1 * * * /usr/bin/backup\n")
    fake = tmp_path / "bin" / "crontab"
    fake.parent.mkdir()
    fake.write_text(f'#!/bin/sh\nif [ "$1" = "-l" ]; then cat {table}; else cat > {table}; fi\n')
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{fake.parent}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("DIGEST_SEND_PROVIDER", "sendgrid")
    result = cli("schedule", "--at", "07:00", "--install")
    assert "SENDGRID_API_KEY=" in result.stderr  # cron does not see the shell's secrets: say so
    cli("schedule", "--at", "08:15", "--install")
    lines = table.read_text().splitlines()
    assert lines[0] == "0 1 * * * /usr/bin/backup"
    assert len(lines) == 2 and lines[1].startswith("15 8 * * * ")


def test_dry_run_on_outbox_and_smtp_builds_everything_and_sends_nothing(
    cli, initialised: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with open_store(initialised) as store:
        edition = make_edition(store, 7)
    report = json.loads(cli("send", "--dry-run", "--json").stdout)
    assert (report["provider"], report["sent"], report["dry_run"]) == ("outbox", 7, True)
    assert not (initialised / "outbox" / f"edition-{edition}").exists()
    monkeypatch.setenv("DIGEST_SMTP_PORT", "9")  # nothing listens there: a dry run never connects
    report = json.loads(cli("send", "--dry-run", "--provider", "smtp", "--json").stdout)
    assert (report["provider"], report["sent"]) == ("smtp", 7)
    with open_store(initialised) as store:
        assert ledger(store, edition) == []
    assert json.loads(cli("send", "--json").stdout)["sent"] == 7  # the real send still owes everyone
    assert len(list((initialised / "outbox" / f"edition-{edition}").glob("*.eml"))) == 7
