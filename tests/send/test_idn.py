"""Internationalised addresses through SendGrid, and a refused batch that never takes innocent readers with it
(issue 14, finding 2)."""

from __future__ import annotations

import json
import socket
from collections import Counter
from collections.abc import Iterator
from email import message_from_bytes
from email.policy import default
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from digest.config import load
from digest.render import render_edition
from digest.send import send_edition
from digest.send.providers.address import ascii_address, normalised_address
from digest.send.providers.smtp import SmtpProvider
from digest.store import Store
from tests.support.send import SECRET, email_of, ledger, make_edition, open_store, sendgrid_env
from tests.support.sendgrid_standin import StandIn, schema_errors

IDN = [f"reader{i}@bücher{i}.de" for i in range(10)]
UNICODE_LOCAL = "jürgen@example.org"
POISONED = "bad..dots@example.org"  # passes nothing of ours today, but a store may hold it (older rules, SQL)


@pytest.fixture
def standin() -> Iterator[StandIn]:
    with StandIn() as s:
        yield s


@pytest.fixture
def env(standin: StandIn, monkeypatch: pytest.MonkeyPatch) -> None:
    # schema and format checks of big bodies are slow on a busy machine: a read timeout must not end a request
    for k, v in sendgrid_env(standin.url, DIGEST_SENDGRID_TIMEOUT="60", DIGEST_SEND_BATCH_SIZE="100").items():
        monkeypatch.setenv(k, v)


def body(*emails: str) -> dict:
    return {
        "personalizations": [{"to": [{"email": e}]} for e in emails],
        "from": {"email": "n@example.com"},
        "subject": "s",
        "content": [{"type": "text/plain", "value": "x"}],
    }


def test_the_standin_checks_format_email_as_sendgrid_does() -> None:
    assert schema_errors(body("a@example.org", "user@xn--bcher-kva.de", '"a b"@example.org')) == []
    for poisoned in ("user@bücher.de", UNICODE_LOCAL, POISONED, "a@b", "a@-x.org", "no-at.example.org"):
        errors = schema_errors(body("ok@example.org", poisoned))
        assert errors == [
            {"message": "Does not contain a valid address.", "field": "personalizations.1.to.0.email", "help": None}
        ], poisoned


def test_addresses_in_ascii_form() -> None:
    assert ascii_address("user@Bücher.de") == "user@xn--bcher-kva.de"
    assert ascii_address("plain@example.org") == "plain@example.org"
    with pytest.raises(ValueError, match="not ASCII"):
        ascii_address(UNICODE_LOCAL)
    assert (
        normalised_address("User@BÜCHER.de") == normalised_address("user@xn--bcher-kva.DE") == ("user@xn--bcher-kva.de")
    )


def test_idn_readers_go_in_idna_form_and_refused_ones_fail_alone(
    cli, initialised: Path, standin: StandIn, env: None
) -> None:
    with open_store(initialised) as store:
        edition = make_edition(store, 205)
        list_id = store.edition(edition).list_id
        odd = [*IDN, UNICODE_LOCAL, POISONED]
        with store.transaction(immediate=True):
            first = store.next_subscriber_id()
            people = list(enumerate(odd, first))
            store.insert_subscribers((sid, address, "", "{}", "2026-11-24T05:00:00Z") for sid, address in people)
            store.insert_subscriptions(list_id, ((sid, "confirmed") for sid, _ in people), "2026-11-24T05:00:00Z")
    report = json.loads(cli("send", "--json", code=3).stdout)
    assert (report["sent"], report["failed"], report["unknown"]) == (215, 2, 0)

    delivered = Counter(standin.addresses())
    assert max(delivered.values()) == 1
    assert set(delivered) == {email_of(i) for i in range(1, 206)} | {ascii_address(a) for a in IDN}
    with open_store(initialised) as store:
        rows = {r["email"]: (r["status"], r["error"] or "") for r in ledger(store, edition)}
    assert rows[UNICODE_LOCAL][0] == "failed" and "not ASCII" in rows[UNICODE_LOCAL][1]
    assert rows[POISONED] == ("failed", "400: Does not contain a valid address.")  # SendGrid's words, alone
    assert all(rows[a][0] == "sent" for a in IDN)
    # a handful of extra requests isolated the refused reader, not one per reader
    assert len(standin.requests) <= 3 + 2 * 11

    again = json.loads(cli("send", "--json", code=3).stdout)  # failed readers are tried again, alone again
    assert (again["sent"], again["failed"]) == (0, 2)
    assert max(Counter(standin.addresses()).values()) == 1


def test_a_400_naming_no_reader_fails_the_batch_without_splitting(
    cli, initialised: Path, standin: StandIn, env: None
) -> None:
    with open_store(initialised) as store:
        make_edition(store, 20)
    standin.then("400")  # "stand-in told to answer 400": no field named
    report = json.loads(cli("send", "--json", code=3).stdout)
    assert (report["sent"], report["failed"], report["requests"]) == (0, 20, 1)


class _Sink:
    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], bytes]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 OK"


def test_smtp_headers_carry_idna_addresses_for_a_server_without_smtputf8(
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
        store.conn.execute(
            "UPDATE lists SET from_email = 'news@bücher.de', reply_to = 'desk@bücher.de' WHERE id = ?", (list_id,)
        )
        with store.transaction(immediate=True):
            sid = store.next_subscriber_id()
            store.insert_subscribers([(sid, "user@bücher.de", "Ann", "{}", "2026-11-24T05:00:00Z")])
            store.insert_subscriptions(list_id, [(sid, "confirmed")], "2026-11-24T05:00:00Z")
        config = load(initialised)
        smtp = SmtpProvider("127.0.0.1", port, security="none")
        report = send_edition(store, config, edition, render_edition(store, config, edition), provider=smtp)
    finally:
        controller.stop()
    assert (report.sent, report.failed) == (2, 0)
    (sender, rcpts, raw) = next(m for m in sink.messages if m[1] == ["user@xn--bcher-kva.de"])
    assert sender == "news@xn--bcher-kva.de"
    message = message_from_bytes(raw, policy=default)
    assert message["From"].addresses[0].addr_spec == "news@xn--bcher-kva.de"  # not an encoded word in the address
    assert message["Reply-To"].addresses[0].addr_spec == "desk@xn--bcher-kva.de"
    assert message["To"].addresses[0].addr_spec == "user@xn--bcher-kva.de"
    assert raw.isascii() and b"=?utf-8?" not in raw.split(b"\r\n\r\n")[0].split(b"From:")[1].split(b"\n")[0]
