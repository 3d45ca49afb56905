"""kill -9 in the middle of a slow send, then re-run: nobody gets the edition twice, unknowns are reported.

``digest send`` runs as a real subprocess against the SendGrid stand-in, which accepts each body
and answers late (``delay``), so a kill lands while batches are in flight.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from digest import clock
from tests.support.send import email_of, ledger, make_edition, open_store, sendgrid_env
from tests.support.sendgrid_standin import StandIn

N = 600

pytestmark = pytest.mark.slow  # real subprocesses killed mid-send


@pytest.fixture
def standin() -> Iterator[StandIn]:
    with StandIn(delay=0.25) as s:
        yield s


def digest(home: Path, standin: StandIn, *args: str, **extra: str) -> subprocess.Popen[str]:
    env = dict(os.environ)  # conftest already cleared DIGEST_* but for the suite's pinned DIGEST_NOW
    env.update(
        sendgrid_env(
            standin.url,
            DIGEST_HOME=str(home),
            DIGEST_SEND_BATCH_SIZE="50",
            DIGEST_SEND_CONCURRENCY="2",
            NO_PROXY="127.0.0.1,localhost",
            **extra,
        )
    )
    return subprocess.Popen(
        [sys.executable, "-c", "from digest.cli import main; main()", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_for(predicate, timeout: float = 20.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.01)


def finish(proc: subprocess.Popen[str], timeout: float = 30.0) -> tuple[int, str, str]:
    out, err = proc.communicate(timeout=timeout)
    return proc.returncode, out, err


@pytest.mark.parametrize("kill_after", [1, 4, 9])
def test_kill_9_mid_send_then_rerun_sends_everyone_exactly_once_except_the_unknown(
    initialised: Path, standin: StandIn, kill_after: int
) -> None:
    with open_store(initialised) as store:
        edition = make_edition(store, N)
    proc = digest(initialised, standin, "send", "--json")
    try:
        wait_for(lambda: len(standin.accepted) >= kill_after)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=10)
    accepted_at_kill = Counter(standin.addresses())
    with open_store(initialised) as store:
        in_flight = {r["email"] for r in ledger(store, edition, "in_flight")}
        assert store.row("SELECT pid FROM locks")["pid"] == proc.pid  # the dead process's lock is still there
    assert in_flight  # the kill left batches in flight
    assert all(n == 1 for n in accepted_at_kill.values())

    standin.delay = 0.0
    code, out, err = finish(digest(initialised, standin, "send", "--json"))
    report = json.loads(out)
    assert code == 3, err
    assert report["unknown"] == len(in_flight)  # reported, not re-sent
    assert report["skipped"] + report["sent"] + report["unknown"] == N

    delivered = Counter(standin.addresses())
    assert max(delivered.values()) == 1  # nobody got it twice
    with open_store(initialised) as store:
        rows = {r["email"]: r["status"] for r in ledger(store, edition)}
        assert store.scalar("SELECT count(*) FROM locks") == 0  # the stale lock was recovered and released
    assert set(rows) == {email_of(i) for i in range(1, N + 1)}
    assert {e for e, s in rows.items() if s == "unknown"} == in_flight
    assert {e for e, s in rows.items() if s == "sent"} == set(delivered) - in_flight
    # everyone not unknown got it exactly once; the unknown ones at most once (some reached the stand-in)
    assert set(delivered) >= set(rows) - in_flight

    code, out, _ = finish(digest(initialised, standin, "send", "--json", "--retry-unknown"))
    report = json.loads(out)
    assert code == 0 and report["retried"] == len(in_flight) and report["unknown"] == 0
    final = Counter(standin.addresses())
    assert set(final) == set(rows)
    assert {e for e, n in final.items() if n > 1} <= in_flight  # only the unknown could get a second copy


def test_two_processes_on_one_edition_only_one_sends(initialised: Path, standin: StandIn) -> None:
    with open_store(initialised) as store:
        make_edition(store, 300)
    standin.delay = 60  # the first process's requests are held until standin.release is set
    # held requests must outlast the set-up below however busy the machine (starting 3 processes can take 10 s+)
    patient = {"DIGEST_SENDGRID_TIMEOUT": "90"}
    first = digest(initialised, standin, "send", "--json", **patient)
    try:
        wait_for(lambda: len(standin.requests) >= 1)
        code, out, err = finish(digest(initialised, standin, "send", "--json"))
        error = json.loads(out)["error"]  # under --json the error is the one document on stdout
        assert code == 1 == error["exit_code"] and "Traceback" not in err
        assert "being sent by another process" in error["message"] and "--wait" in error["message"]
        today = f"{clock.now().date().isoformat()}T07:00:00Z"  # the edition make_edition built is today's
        waiter = digest(initialised, standin, "run", "--json", "--wait", "30", "--now", today, **patient)
        second = digest(initialised, standin, "send", "--json", "--wait", "30", **patient)
        time.sleep(0.5)  # both are waiting for the lock now (or soon); let the first finish
        assert first.poll() is None
        standin.release.set()
        code1, out1, err1 = finish(first)
        code2, out2, err2 = finish(second)
        code3, out3, err3 = finish(waiter)
    finally:
        if first.poll() is None:
            first.kill()
            first.communicate()
    assert (code1, code2) == (0, 0), err1 + err2
    assert json.loads(out1)["sent"] == 300
    assert (json.loads(out2)["sent"], json.loads(out2)["skipped"]) == (0, 300)
    assert Counter(standin.addresses()) == Counter({email_of(i): 1 for i in range(1, 301)})
    assert code3 == 0, err3  # cron's run waited too, then found nobody owed the edition
    (entry,) = json.loads(out3)["lists"]
    assert (entry["sent"], entry["skipped"]) == (0, 300)
