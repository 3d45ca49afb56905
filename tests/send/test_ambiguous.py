"""Ambiguous answers are unknown, never retried blindly; --retry-unknown asks the provider's events first
(issue 14, finding 4)."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from digest.send.events import record_events
from tests.support import NOW
from tests.support.send import email_of, ledger, make_edition, open_store, sendgrid_env
from tests.support.sendgrid_standin import StandIn


@pytest.fixture
def standin() -> Iterator[StandIn]:
    with StandIn() as s:
        yield s


@pytest.fixture
def env(standin: StandIn, monkeypatch: pytest.MonkeyPatch) -> None:
    for k, v in sendgrid_env(standin.url, DIGEST_SEND_BATCH_SIZE="10", DIGEST_SEND_CONCURRENCY="1").items():
        monkeypatch.setenv(k, v)


def send(cli, *args: str, code: int = 0) -> dict:
    return json.loads(cli("send", "--json", *args, code=code).stdout)


def test_a_500_after_sendgrid_accepted_is_unknown_and_not_sent_again(
    cli, initialised: Path, standin: StandIn, env: None
) -> None:
    with open_store(initialised) as store:
        edition = make_edition(store, 30)
    standin.then("ok", "accept500")  # the second batch was queued for delivery, then answered 500
    report = send(cli, code=3)
    assert (report["sent"], report["unknown"], report["failed"], report["requests"]) == (20, 10, 0, 3)
    assert Counter(standin.addresses()) == Counter({email_of(i): 1 for i in range(1, 31)})  # nobody twice
    assert any("500" in e and "may have queued" in e for e in report["errors"])
    with open_store(initialised) as store:
        assert {r["email"] for r in ledger(store, edition, "unknown")} == {email_of(i) for i in range(11, 21)}


def test_a_429_proves_nothing_was_accepted_and_is_retried(cli, initialised: Path, standin: StandIn, env) -> None:
    with open_store(initialised) as store:
        make_edition(store, 5)
    standin.then("429")
    report = send(cli)
    assert (report["sent"], report["requests"]) == (5, 2)
    assert Counter(standin.addresses()) == Counter({email_of(i): 1 for i in range(1, 6)})


def test_retry_unknown_resends_only_readers_with_no_provider_evidence(
    cli, initialised: Path, standin: StandIn, env: None
) -> None:
    with open_store(initialised) as store:
        edition = make_edition(store, 30)
        ids = {r.email: r.id for r in store.subscribers(store.list_("main").id)}
    standin.then("ok", "accept500")
    send(cli, code=3)

    def evidence(i: int, kind: str) -> dict:
        return {
            "email": email_of(i),
            "event": kind,
            "timestamp": int(NOW.timestamp()) - 60,
            "sg_event_id": f"{kind}-{i}",
            "edition_id": str(edition),
            "subscriber_id": str(ids[email_of(i)]),
        }

    with open_store(initialised) as store:
        # arrive now: each resolves its reader at once
        summary = record_events(store, [evidence(11, "delivered"), evidence(12, "processed"), evidence(13, "bounce")])
        assert summary["resolved"] == 3
        assert {r["email"] for r in ledger(store, edition, "unknown")} == {email_of(i) for i in range(14, 21)}
        # arrived while the batch was still in flight (no unknown row to resolve then): found at --retry-unknown
        with store.transaction():
            for i, kind in ((14, "delivered"), (15, "deferred")):
                e = evidence(i, kind)
                store.record_event(
                    e["sg_event_id"],
                    kind,
                    email=e["email"],
                    edition_id=edition,
                    subscriber_id=ids[email_of(i)],
                    occurred_at=None,
                    data=e,
                )
        # a test copy's event is no evidence that the edition reached the reader
        test_copy = {**evidence(16, "delivered"), "test": "yes", "sg_event_id": "test-copy"}
        assert record_events(store, [test_copy])["resolved"] == 0

    before = Counter(standin.addresses())
    report = send(cli, "--retry-unknown")
    assert (report["resolved"], report["retried"], report["sent"], report["unknown"]) == (2, 5, 5, 0)
    resent = Counter(standin.addresses()) - before
    assert resent == Counter({email_of(i): 1 for i in range(16, 21)})  # only those with no evidence
    with open_store(initialised) as store:
        assert {r["status"] for r in ledger(store, edition)} == {"sent"}
        row = next(r for r in ledger(store, edition) if r["email"] == email_of(14))
        assert row["error"] == "the provider reported it: delivered"
    result = cli("send", "--retry-unknown")
    text = result.stdout + result.stderr
    assert "0 had it" in text and "0 re-sent" in text


def test_a_reader_left_unknown_by_a_retry_run_is_not_sent_again_by_that_same_run(
    cli, initialised: Path, standin: StandIn, env: None
) -> None:
    with open_store(initialised) as store:
        make_edition(store, 20)
    standin.then("400", "ok")  # the first ten fail (certainly not sent)
    send(cli, code=3)
    standin.then("accept500")  # their re-send is accepted, then answered 500: unknown, and no event yet
    report = send(cli, "--retry-unknown", code=3)
    assert (report["sent"], report["unknown"], report["retried"]) == (0, 10, 0)
    assert Counter(standin.addresses()) == Counter({email_of(i): 1 for i in range(1, 21)})  # found by the fault trials
