"""Time limits that hold, and faults of the machine as one clear line (issue 14, finding 8 of the campaign)."""

from __future__ import annotations

import json
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from digest import clock
from digest.config import load
from digest.models import iso
from digest.send.providers.sendgrid import SendGridProvider
from digest.store import Store
from tests.support.send import API_KEY, ledger, make_edition, open_store, sendgrid_env
from tests.support.sendgrid_standin import StandIn


@pytest.fixture
def standin() -> Iterator[StandIn]:
    with StandIn() as s:
        yield s


def test_a_reply_trickled_byte_by_byte_ends_unknown_at_the_deadline(
    cli, initialised: Path, standin: StandIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    for k, v in sendgrid_env(standin.url, DIGEST_SENDGRID_TIMEOUT="1", DIGEST_SENDGRID_DEADLINE="1.5").items():
        monkeypatch.setenv(k, v)
    with open_store(initialised) as store:
        make_edition(store, 5)
    standin.then("trickle")  # each byte within the 1 s read timeout; the whole reply would take 15 s
    started = time.monotonic()
    report = json.loads(cli("send", "--json", code=3).stdout)
    assert time.monotonic() - started < 8
    assert (report["sent"], report["unknown"]) == (0, 5) and "deadline" in report["errors"][0]


def test_retry_after_is_honoured_up_to_max_wait() -> None:
    waits: list[float] = []
    provider = SendGridProvider(API_KEY, host="http://127.0.0.1:9", max_wait=5, sleep=waits.append)
    assert provider._rate_limit_wait({"Retry-After": "2"}) == 2
    assert provider._rate_limit_wait({"Retry-After": "3600"}) == 5  # bounded
    assert provider._rate_limit_wait({"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}) == 0.05  # a date passed
    assert 0 < provider._rate_limit_wait({"X-RateLimit-Reset": str(int(time.time()) + 2)}) <= 2


def test_a_silent_lock_from_another_host_is_taken_over_within_a_minute_or_two(
    cli, initialised: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with open_store(initialised) as store:
        edition = make_edition(store, 3)
        beat = iso(clock.wall() - timedelta(minutes=2))  # locks measure real elapsed time
        store.conn.execute(
            "INSERT INTO locks(name, owner, pid, host, acquired_at, heartbeat_at, run_id)"
            " VALUES (?, 'x', 1, 'a-replaced-container', ?, ?, 'theirs')",
            (f"send:edition:{edition}", beat, beat),
        )
    assert socket.gethostname() != "a-replaced-container"
    assert json.loads(cli("send", "--json", "--wait", "0").stdout)["sent"] == 3


def test_a_malformed_sendgrid_host_is_one_line_and_nothing_is_recorded(
    cli, initialised: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for k, v in sendgrid_env("api.sendgrid.com").items():  # no scheme
        monkeypatch.setenv(k, v)
    with open_store(initialised) as store:
        edition = make_edition(store, 3)
    result = cli("send", code=1)
    assert "is not an http(s) URL" in result.stderr and "Traceback" not in result.stderr
    with open_store(initialised) as store:
        assert ledger(store, edition) == []


def test_a_full_disk_is_one_line_and_the_ledger_stays_consistent(
    cli, initialised: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with open_store(initialised) as store:
        edition = make_edition(store, 50)
        pages = store.scalar("PRAGMA page_count")
    opened = Store.__init__

    def tiny_disk(self: Store, *args: object, **kwargs: object) -> None:
        opened(self, *args, **kwargs)  # type: ignore[arg-type]
        self.conn.execute(f"PRAGMA max_page_count = {pages + 1}")  # SQLITE_FULL, as a full disk gives

    monkeypatch.setattr(Store, "__init__", tiny_disk)
    monkeypatch.setenv("DIGEST_SEND_BATCH_SIZE", "5")
    result = cli("send", code=1)
    assert result.stderr.startswith("Error: the disk is full") and "Traceback" not in result.stderr
    monkeypatch.undo()
    with open_store(initialised) as store:  # every row the ledger holds is whole: in flight, or finished
        counts = store.send_counts(edition)
        assert store.scalar("PRAGMA integrity_check") == "ok"
    assert counts.sent + counts.in_flight + counts.unknown + counts.failed < 50


def test_a_locked_store_is_one_line(cli, initialised: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("digest.store.BUSY_TIMEOUT_S", 0.2)
    holder = sqlite3.connect(load(initialised).db_path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        result = cli("lists", "add", "second", "--from-email", "news@example.com", code=1)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert "locked by another process" in result.stderr and "Traceback" not in result.stderr


def test_init_example_refuses_a_live_home(cli, initialised: Path) -> None:
    cli("lists", "add", "main", "--from-email", "news@example.com")
    result = cli("init", "--example", code=1)
    assert "already has 1 list(s)" in result.stderr and "empty folder" in result.stderr
    with open_store(initialised) as store:
        assert store.scalar("SELECT count(*) FROM subscribers") == 0 and store.sources() == []


def test_run_wait_also_waits_for_a_sender_that_has_not_written_a_batch_yet(
    cli, initialised: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with open_store(initialised) as store:
        edition = make_edition(store, 3, date=clock.now().date().isoformat())
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        now = iso(clock.wall())
        with open_store(initialised) as store:  # a live sender on this host, just started: no batch written yet
            store.conn.execute(
                "INSERT INTO locks(name, owner, pid, host, acquired_at, heartbeat_at, run_id)"
                " VALUES (?, 'x', ?, ?, ?, ?, 'theirs')",
                (f"send:edition:{edition}", sleeper.pid, socket.gethostname(), now, now),
            )

        def finishes() -> None:
            time.sleep(5.0)  # longer than the build takes
            with open_store(initialised) as store:
                store.conn.execute("DELETE FROM locks")

        threading.Thread(target=finishes, daemon=True).start()
        report = json.loads(cli("run", "--json", "--wait", "20").stdout)
    finally:
        sleeper.kill()
        sleeper.wait()
    (entry,) = report["lists"]
    assert "error" not in entry and entry["sent"] == 3, entry
