"""The ledger and its locks: run ids, live locks, 5xx-then-401, IDN over SMTP, no re-freezing while sending,
owed_again's plan, and the dry run."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from digest import clock
from digest.config import load
from digest.errors import LockedError, ProviderError
from digest.models import SendCounts, iso
from digest.render import render_edition
from digest.send import _Heartbeat, send_edition
from digest.send.providers.sendgrid import SendGridProvider
from digest.send.providers.smtp import SmtpProvider
from digest.store import Store
from tests.support.send import API_KEY, SECRET, claim, email_of, ledger, make_edition
from tests.support.sendgrid_standin import StandIn

LOCK_SQL = "INSERT INTO locks(name, owner, pid, host, acquired_at, heartbeat_at, run_id) VALUES (?, 'x', ?, ?, ?, ?, ?)"
OLD = "2026-01-01T00:00:00+00:00"


@pytest.fixture
def sleeper() -> Iterator[subprocess.Popen[bytes]]:
    """A live process on this host that is not us (the 'other sender')."""
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        yield proc
    finally:
        proc.kill()
        proc.wait()


# -- pids repeat (pid 1 in every container run); run ids tell runs apart ---------------------------
def test_a_batch_left_in_flight_by_an_earlier_run_with_our_pid_is_unknown(store: Store, initialised: Path) -> None:
    config = load(initialised)
    edition = make_edition(store, 5)
    claim(store, edition, 2)  # readers 1 and 2; pid = ours, no run id
    other_run = claim(store, edition, 1, after=2, run_id="an-earlier-run")
    assert store.row("SELECT pid FROM send_batches WHERE id = ?", (other_run,))["pid"] == os.getpid()
    report = send_edition(store, config, edition, render_edition(store, config, edition), provider="outbox")
    assert (report.sent, report.unknown) == (2, 3)
    assert store.send_counts(edition) == SendCounts(in_flight=0, sent=2, failed=0, unknown=3)
    again = send_edition(
        store, config, edition, render_edition(store, config, edition), provider="outbox", retry_unknown=True
    )
    assert (again.retried, again.unknown) == (3, 0)
    assert store.send_counts(edition).sent == 5


def test_a_lock_with_our_pid_from_an_earlier_run_is_taken_over(store: Store, initialised: Path) -> None:
    edition = make_edition(store, 3)
    now = iso(clock.wall())  # locks measure real elapsed time
    store.conn.execute(LOCK_SQL, (f"send:edition:{edition}", os.getpid(), socket.gethostname(), now, now, "gone"))
    report = send_edition(
        store,
        load(initialised),
        edition,
        render_edition(store, load(initialised), edition),
        provider="outbox",
        wait_s=0,
    )
    assert report.sent == 3 and store.scalar("SELECT count(*) FROM locks") == 0


# -- a live sender is never taken over; restart_batch never touches rows in flight ---------------------
def test_a_live_sender_on_this_host_keeps_its_lock_however_old_its_heartbeat(
    store: Store, initialised: Path, sleeper: subprocess.Popen[bytes]
) -> None:
    edition = make_edition(store, 4)
    batch = claim(store, edition, 2, run_id="theirs")
    now = iso(clock.wall())  # locks measure real elapsed time
    store.conn.execute(LOCK_SQL, (f"send:edition:{edition}", sleeper.pid, socket.gethostname(), now, OLD, "theirs"))
    with pytest.raises(LockedError, match="being sent by another process"):
        send_edition(
            store,
            load(initialised),
            edition,
            render_edition(store, load(initialised), edition),
            provider="outbox",
            wait_s=0,
        )
    assert store.row("SELECT status FROM send_batches WHERE id = ?", (batch,))["status"] == "in_flight"
    assert store.send_counts(edition).unknown == 0


def test_a_reused_pid_or_a_silent_other_host_does_not_keep_the_lock(
    store: Store, initialised: Path, sleeper: subprocess.Popen[bytes]
) -> None:
    config = load(initialised)
    edition = make_edition(store, 2)
    name = f"send:edition:{edition}"
    time.sleep(0.05)
    # the live process started long after the lock was taken: it reused the pid of a sender that is gone
    store.conn.execute(LOCK_SQL, (name, sleeper.pid, socket.gethostname(), OLD, OLD, "theirs"))
    assert (
        send_edition(store, config, edition, render_edition(store, config, edition), provider="outbox", wait_s=0).sent
        == 2
    )
    store.conn.execute(LOCK_SQL, (name, 12345, "another-host", OLD, OLD, "theirs"))
    assert (
        send_edition(
            store, config, edition, render_edition(store, config, edition), provider="outbox", wait_s=0
        ).skipped
        == 2
    )
    now = iso(clock.wall())  # locks measure real elapsed time
    store.conn.execute(LOCK_SQL, (name, 12345, "another-host", now, now, "theirs"))  # recent heartbeat: live
    with pytest.raises(LockedError):
        send_edition(store, config, edition, render_edition(store, config, edition), provider="outbox", wait_s=0)


def test_the_heartbeat_thread_keeps_the_lock_fresh(store: Store) -> None:
    run_id = uuid.uuid4().hex
    assert store.acquire_lock("send:edition:9", "test", run_id) is None
    store.conn.execute("UPDATE locks SET heartbeat_at = ?", (OLD,))
    try:
        with _Heartbeat(store, "send:edition:9", run_id, interval=0.02):
            deadline = time.monotonic() + 5
            while store.scalar("SELECT heartbeat_at FROM locks") == OLD:
                assert time.monotonic() < deadline
                time.sleep(0.02)
    finally:
        store.release_lock("send:edition:9", run_id)
    assert store.scalar("SELECT count(*) FROM locks") == 0


def test_restart_batch_takes_only_failed_or_unknown_rows(store: Store) -> None:
    edition = make_edition(store, 3)
    live = claim(store, edition, 2, run_id="live")
    done = claim(store, edition, 1, after=2, run_id="done")
    store.finish_batch(done, "failed", error="x")
    rows = [(1, email_of(1), ""), (2, email_of(2), ""), (3, email_of(3), "")]
    batch_id, taken = store.restart_batch(edition, "outbox", rows, run_id="me") or (0, [])
    assert [r[0] for r in taken] == [3]
    assert store.scalar("SELECT size FROM send_batches WHERE id = ?", (batch_id,)) == 1
    assert {r["batch_id"] for r in ledger(store, edition, "in_flight") if r["subscriber_id"] < 3} == {live}
    assert store.restart_batch(edition, "outbox", rows[:2], run_id="me") is None


# -- a 5xx leaves its batch unknown at once; a 401 on the next still stops the run --------------------------
def test_a_5xx_is_unknown_and_a_401_after_it_stops_the_run(
    store: Store, initialised: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DIGEST_SECRET", SECRET)
    edition = make_edition(store, 30)
    with StandIn() as standin:
        standin.then("500")
        seen: list[bytes] = []

        def revoke(raw: bytes) -> None:  # the key is revoked after the first request
            if seen:
                standin.api_key = "SG.another-key"
            seen.append(raw)

        standin.on_request = revoke
        provider = SendGridProvider(API_KEY, host=standin.url, batch_size=10, concurrency=1)
        with pytest.raises(ProviderError, match="401"):
            send_edition(
                store, load(initialised), edition, render_edition(store, load(initialised), edition), provider=provider
            )
        assert [r.status for r in standin.requests] == [500, 401]  # the 500 was not retried
    counts = store.send_counts(edition)
    assert counts.unknown == 10 and counts.failed == 10  # the unknown are not re-sent by the next run
    (batch,) = store.rows("SELECT * FROM send_batches WHERE status = 'unknown'")
    assert "500" in batch["error"]


# -- internationalised addresses against a server without SMTPUTF8 -----------------------------------
class _Sink:
    def __init__(self) -> None:
        self.messages: list[tuple[list[str], EmailMessage]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.messages.append((list(envelope.rcpt_tos), message_from_bytes(envelope.content, policy=default)))
        return "250 OK"


def test_idn_domains_go_in_idna_form_and_a_unicode_local_part_fails_alone(
    store: Store, initialised: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DIGEST_SECRET", SECRET)
    sink = _Sink()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    controller = Controller(sink, hostname="127.0.0.1", port=port, enable_SMTPUTF8=False)
    controller.start()
    try:
        edition = make_edition(store, 1)
        list_id = store.edition(edition).list_id
        with store.transaction(immediate=True):
            first = store.next_subscriber_id()
            people = list(enumerate(["user@bücher.de", "jürgen@bücher.de", "c@example.org"], first))
            store.insert_subscribers((sid, address, "", "{}", "2026-11-24T05:00:00Z") for sid, address in people)
            store.insert_subscriptions(list_id, ((sid, "confirmed") for sid, _ in people), "2026-11-24T05:00:00Z")
        provider = SmtpProvider("127.0.0.1", port, security="none")
        report = send_edition(
            store, load(initialised), edition, render_edition(store, load(initialised), edition), provider=provider
        )
    finally:
        controller.stop()
    status = {r["email"]: (r["status"], r["error"]) for r in ledger(store, edition)}
    assert (report.sent, report.failed, report.unknown) == (3, 1, 0)
    assert status["user@bücher.de"][0] == "sent" and status["c@example.org"][0] == "sent"
    assert status["jürgen@bücher.de"][0] == "failed" and "SMTPUTF8" in (status["jürgen@bücher.de"][1] or "")
    assert provider.opened == 1  # nothing was mistaken for a lost connection
    rcpts = sorted(r for rs, _ in sink.messages for r in rs)
    assert rcpts == sorted([email_of(1), "c@example.org", "user@xn--bcher-kva.de"])
    (idn,) = [m for rs, m in sink.messages if rs == ["user@xn--bcher-kva.de"]]
    assert "xn--bcher-kva.de" in str(idn["To"])


# -- no re-freeze while sending; edition ids are never reused -------------------------------------------
def test_an_edition_being_sent_cannot_be_refrozen(store: Store) -> None:
    edition = make_edition(store, 2)
    lst, day = store.edition(edition).list_id, store.edition(edition).date
    run_id = uuid.uuid4().hex
    assert store.acquire_lock(f"send:edition:{edition}", "test", run_id) is None
    try:
        with pytest.raises(LockedError, match="being sent"):
            store.freeze_edition(lst, day, "New", "p", "2026-11-24T08:00:00Z", [])
    finally:
        store.release_lock(f"send:edition:{edition}", run_id)
    assert store.edition(edition).subject == "Today's digest"


def test_edition_ids_are_never_reused(store: Store) -> None:
    first = make_edition(store, 1, date="2026-11-24")
    lst = store.edition(first).list_id
    rebuilt = store.freeze_edition(lst, "2026-11-24", "Again", "p", "2026-11-24T08:00:00Z", [])
    assert rebuilt == first and store.edition(first).subject == "Again"  # a rebuild keeps its id
    second = store.freeze_edition(lst, "2026-11-25", "Next day", "p", "2026-11-25T08:00:00Z", [])
    store.conn.execute("DELETE FROM editions WHERE id = ?", (second,))  # gone (e.g. its list was removed)
    third = store.freeze_edition(lst, "2026-11-26", "Another", "p", "2026-11-26T08:00:00Z", [])
    assert third > second  # never the id of an edition that existed before


# -- owed_again walks an index, no sort per chunk --------------------------------------------------------
def test_owed_again_walks_the_index_without_sorting(store: Store) -> None:
    edition = make_edition(store, 30)
    batch = claim(store, edition, 30)
    store.finish_batch(batch, "failed", error="x")
    chunks = list(store.owed_again(edition, store.edition(edition).list_id, ("confirmed",), False, 7))
    assert [sid for _, rows in chunks for sid, _, _ in rows] == list(range(1, 31))
    store.conn.set_trace_callback(None)
    sql: list[str] = []
    store.conn.set_trace_callback(sql.append)
    next(store.owed_again(edition, 1, ("confirmed",), False, 7))
    store.conn.set_trace_callback(None)
    (query,) = [q for q in sql if q.startswith("SELECT")]
    plan = " ".join(r[3] for r in store.conn.execute("EXPLAIN QUERY PLAN " + query))
    assert "TEMP B-TREE" not in plan and "sends_edition_status" in plan


# -- the dry run counts what a real run would send and writes nothing --------------------------------
def test_dry_run_counts_failed_rows_and_writes_nothing(cli, store: Store, initialised: Path) -> None:
    edition = make_edition(store, 4)
    batch = claim(store, edition, 1)
    store.finish_batch(batch, "failed", error="x")
    assert store.meta_get("dev_signing_key") is None
    before = store.conn.total_changes, store.scalar("SELECT count(*) FROM send_batches")
    report = json.loads(cli("send", "--dry-run", "--json", "--provider", "outbox").stdout)
    assert report["sent"] == 4 and report["dry_run"] is True
    assert store.meta_get("dev_signing_key") is None
    assert (store.conn.total_changes, store.scalar("SELECT count(*) FROM send_batches")) == before
    assert not (load(initialised).outbox_dir / f"edition-{edition}").exists()


def test_dry_run_with_sendgrid_needs_no_api_key(cli, store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    make_edition(store, 3)
    monkeypatch.setenv("DIGEST_SENDGRID_HOST", "http://127.0.0.1:9")  # nothing listens: nothing may be sent
    report = json.loads(cli("send", "--dry-run", "--json", "--provider", "sendgrid").stdout)
    assert (report["sent"], report["requests"], report["provider"]) == (3, 1, "sendgrid")
