"""The smtp provider's messages on the wire (aiosmtpd on 127.0.0.1): joined from the edition's template, they mean
what the email library writes (every header, every part), with and without SMTPUTF8 and PIPELINING; a refused
reader fails alone and a lost connection leaves only the message in flight unknown."""

from __future__ import annotations

import dataclasses
import socket
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from digest import tokens
from digest.config import load
from digest.models import Rendered
from digest.placeholders import token as placeholder
from digest.render import render_edition
from digest.send import edition_mail, recipient
from digest.send.message import build_message
from digest.send.providers.address import ascii_address
from digest.send.providers.base import EditionMail, Recipient
from digest.send.providers.smtp import SmtpProvider
from digest.store import Store
from tests.send.test_message_template import assert_same_meaning, parse
from tests.support.send import SECRET, make_edition


class Sink:
    """Keeps each message's envelope and raw bytes; offers PIPELINING when asked; can refuse an address or drop
    the connection when a given message's data has arrived (before answering it)."""

    def __init__(self, pipelining: bool) -> None:
        self.pipelining = pipelining
        self.messages: list[tuple[str, list[str], list[str], bytes]] = []
        self.refuse: set[str] = set()
        self.drop_at: str | None = None  # the recipient whose message is taken, then the line cut unanswered
        self.sessions = 0

    async def handle_EHLO(  # noqa: N802
        self, server: Any, session: Any, envelope: Any, hostname: str, responses: list[str]
    ) -> list[str]:
        self.sessions += 1
        session.host_name = hostname
        return [*responses[:-1], "250-PIPELINING", responses[-1]] if self.pipelining else responses

    async def handle_RCPT(  # noqa: N802
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]
    ) -> str:
        if address in self.refuse:
            return "550 5.1.1 no such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.messages.append(
            (envelope.mail_from, list(envelope.rcpt_tos), list(envelope.mail_options), envelope.original_content)
        )
        if self.drop_at in envelope.rcpt_tos:
            server.transport.abort()  # the message arrived, its answer never does
        return "250 OK"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(
    params=[(True, True), (True, False), (False, True), (False, False)], ids=lambda p: f"utf8={p[0]},pipe={p[1]}"
)
def server(request: pytest.FixtureRequest) -> Iterator[tuple[Sink, int, bool]]:
    smtputf8, pipelining = request.param
    sink, port = Sink(pipelining), free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port, enable_SMTPUTF8=smtputf8)
    controller.start()
    try:
        yield sink, port, smtputf8
    finally:
        controller.stop()


@pytest.fixture
def real_mail(store: Store, initialised: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[EditionMail, bytes]:
    monkeypatch.setenv("DIGEST_SECRET", SECRET)
    edition = make_edition(store, 1)
    config = load(initialised)
    return edition_mail(store, config, edition, render_edition(store, config, edition)), tokens.signing_key(store)


NAMES = ["Reader 1", "", "Zoë Ünal", "李雷", "Ann & Bob <x>", "O'Neil-Smith", "J. Smith", "a" * 90]
EMAILS = ["reader1@example.org", "first.last+tag@sub.example.co.uk", "user@bücher.de", "jürgen@bücher.de"]
# a body whose lines start with dots (SMTP dot-stuffing) and carry placeholders
DOTTED = Rendered(
    subject="Dots — ünïcode",
    preheader="",
    text=f".\n..two\n.{placeholder('name')} starts a line\nend {placeholder('unsubscribe_url')}\n.",
    html=f'.<p>{placeholder("name")}</p>\n.\n<a href="{placeholder("unsubscribe_url")}">x</a>',
)


def library_message(mail: EditionMail, r: Recipient, domain: str, smtputf8: bool) -> EmailMessage | None:
    """What smtplib's ``send_message`` of :func:`build_message` put on the wire, parsed; None if it could not go."""
    if not smtputf8:
        try:
            r = dataclasses.replace(r, email=ascii_address(r.email))
        except ValueError:
            return None
        mail = dataclasses.replace(mail, from_email=ascii_address(mail.from_email))
    msg = build_message(mail, r, domain)
    international = not (mail.from_email + r.email).isascii()
    return parse(msg.as_bytes(policy=msg.policy.clone(linesep="\r\n", utf8=international)))


@pytest.mark.parametrize("body", ["edition", "dotted"])
def test_every_reader_s_message_means_what_the_library_writes(
    real_mail: tuple[EditionMail, bytes], initialised: Path, server: tuple[Sink, int, bool], body: str
) -> None:
    sink, port, smtputf8 = server
    mail, key = real_mail
    if body == "dotted":
        mail = dataclasses.replace(mail, rendered=DOTTED)
    config = load(initialised)
    readers = [
        recipient(config, key, mail, 10 * i + j + 1, email.replace("@", f"+{i}@"), name)
        for i, name in enumerate(NAMES)
        for j, email in enumerate(EMAILS)
    ]
    provider = SmtpProvider("127.0.0.1", port, security="none", domain="example.com", batch_size=len(readers))
    try:
        result = provider.send_batch(mail, readers)
    finally:
        provider.close()
    received = {rcpts[0]: (sender, options, raw) for sender, rcpts, options, raw in sink.messages}
    for r in readers:
        expected = library_message(mail, r, "example.com", smtputf8)
        if expected is None:  # a Unicode local part, and no SMTPUTF8: it fails alone, with the reason
            status, error = result.outcomes[r.subscriber_id]
            assert status == "failed" and "SMTPUTF8" in (error or "")
            continue
        address = r.email if smtputf8 else ascii_address(r.email)
        assert r.subscriber_id not in result.outcomes
        _, options, raw = received.pop(address)
        international = not (mail.from_email + address).isascii()
        assert ("SMTPUTF8" in options) is international
        assert raw.endswith(b"\r\n") and b"\r\n.\r\n" not in raw
        assert_same_meaning(expected, parse(raw), mail, r, "example.com")
    assert received == {}
    assert sink.sessions == 1


def test_a_refused_reader_fails_alone_in_a_pipelined_batch(
    real_mail: tuple[EditionMail, bytes], initialised: Path, server: tuple[Sink, int, bool]
) -> None:
    sink, port, _ = server
    mail, key = real_mail
    config = load(initialised)
    readers = [recipient(config, key, mail, i, f"r{i}@example.org", f"R {i}") for i in range(1, 8)]
    sink.refuse = {"r3@example.org", "r4@example.org", "r7@example.org"}
    provider = SmtpProvider("127.0.0.1", port, security="none")
    try:
        result = provider.send_batch(mail, readers)
        again = provider.send_batch(mail, readers[:2])  # the connection is still in a clean state
    finally:
        provider.close()
    assert result.status == "sent" and again.status == "sent" and not again.outcomes
    assert {sid: status for sid, (status, _) in result.outcomes.items()} == {3: "failed", 4: "failed", 7: "failed"}
    assert all("550" in (error or "") for _, error in result.outcomes.values())
    assert [rcpts for _, rcpts, _, _ in sink.messages] == [[f"r{i}@example.org"] for i in (1, 2, 5, 6, 1, 2)]
    assert provider.opened == 1


def test_a_lost_connection_leaves_only_the_message_in_flight_unknown(
    real_mail: tuple[EditionMail, bytes], initialised: Path, server: tuple[Sink, int, bool]
) -> None:
    sink, port, _ = server
    mail, key = real_mail
    config = load(initialised)
    readers = [recipient(config, key, mail, i, f"r{i}@example.org", "") for i in range(1, 7)]
    sink.drop_at = "r3@example.org"
    provider = SmtpProvider("127.0.0.1", port, security="none")
    try:
        result = provider.send_batch(mail, readers)
        sink.drop_at = None
        later = provider.send_batch(mail, readers[3:])  # a new connection for the next batch
    finally:
        provider.close()
    assert result.status == "sent"
    statuses = {sid: status for sid, (status, _) in result.outcomes.items()}
    assert statuses == {3: "unknown", 4: "failed", 5: "failed", 6: "failed"}
    assert "connection lost" in (result.outcomes[3][1] or "")
    assert later.status == "sent" and not later.outcomes and provider.opened == 2
    delivered = [rcpts[0] for _, rcpts, _, _ in sink.messages]
    assert delivered == [f"r{i}@example.org" for i in (1, 2, 3, 4, 5, 6)]  # nobody twice, nobody lost
