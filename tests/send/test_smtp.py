"""The smtp provider against a real SMTP server (aiosmtpd) on 127.0.0.1: plain, STARTTLS and SSL."""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import socket
import ssl
from collections.abc import Iterator
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from digest import tokens
from tests.support.send import SECRET, email_of, ledger, make_edition, open_store

PASSWORD = "smtp-pass-not-printed"
# plain-text AUTH on 127.0.0.1 is on purpose in the "none" case
pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning")


class Sink:
    """Keeps every message; refuses the addresses in ``refuse``; counts sessions."""

    def __init__(self) -> None:
        self.messages: list[tuple[list[str], EmailMessage]] = []
        self.connections: list[Any] = []  # client (host, port) of each connection (EHLO comes again after STARTTLS)
        self.refuse: set[str] = set()

    @property
    def sessions(self) -> int:
        return len(self.connections)

    async def handle_EHLO(
        self,
        server: Any,
        session: Any,
        envelope: Any,
        hostname: str,  # noqa: N802
        responses: list[str],
    ) -> list[str]:
        if session.peer not in self.connections:
            self.connections.append(session.peer)
        session.host_name = hostname
        return responses

    async def handle_RCPT(
        self,
        server: Any,
        session: Any,
        envelope: Any,
        address: str,  # noqa: N802
        rcpt_options: list[str],
    ) -> str:
        if address in self.refuse:
            return "550 5.1.1 no such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        msg = message_from_bytes(envelope.content, policy=default)
        self.messages.append((list(envelope.rcpt_tos), msg))  # type: ignore[arg-type]
        return "250 OK queued"


def authenticator(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
    ok = isinstance(data, LoginPassword) and data.login == b"digest" and data.password == PASSWORD.encode()
    return AuthResult(success=ok, handled=False)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def cert(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
        .sign(key, hashes.SHA256())
    )
    folder = tmp_path_factory.mktemp("tls")
    (folder / "cert.pem").write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    (folder / "key.pem").write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return folder / "cert.pem", folder / "key.pem"


@pytest.fixture(params=["none", "starttls", "ssl"])
def smtp(request: pytest.FixtureRequest, cert: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch) -> Iterator[Sink]:
    security = request.param
    sink = Sink()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*cert)
    port = free_port()
    kwargs: dict[str, Any] = {"authenticator": authenticator, "auth_required": True}
    if security == "none":
        kwargs["auth_require_tls"] = False
    elif security == "starttls":
        kwargs.update(tls_context=context, require_starttls=True)
    else:  # implicit TLS; aiosmtpd only counts STARTTLS as TLS for its AUTH rule
        kwargs.update(ssl_context=context, auth_require_tls=False)
    controller = Controller(sink, hostname="127.0.0.1", port=port, **kwargs)
    monkeypatch.setenv("SSL_CERT_FILE", str(cert[0]))  # the client's default context trusts the test CA
    controller.start()
    for k, v in {
        "DIGEST_SEND_PROVIDER": "smtp",
        "DIGEST_SMTP_HOST": "127.0.0.1",
        "DIGEST_SMTP_PORT": str(port),
        "DIGEST_SMTP_SECURITY": security,
        "DIGEST_SMTP_USERNAME": "digest",
        "DIGEST_SMTP_TIMEOUT": "5",
        "DIGEST_SMTP_PASSWORD": PASSWORD,
        "DIGEST_SECRET": SECRET,
    }.items():
        monkeypatch.setenv(k, v)
    try:
        yield sink
    finally:
        controller.stop()


def test_one_multipart_alternative_message_per_recipient_over_one_connection(
    cli, initialised: Path, smtp: Sink, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DIGEST_SMTP_CONNECTIONS", "1")
    with open_store(initialised) as store:
        edition = make_edition(store, 150)
        list_id = store.list_("main").id
        ids = {r.email: r.id for r in store.subscribers(list_id)}
    report = json.loads(cli("send", "--json").stdout)
    assert (report["provider"], report["sent"], report["failed"], report["unknown"]) == ("smtp", 150, 0, 0)
    assert smtp.sessions == 1  # one connection reused for both batches of 100 and 50
    assert sorted(rcpt for rcpts, _ in smtp.messages for rcpt in rcpts) == [email_of(i) for i in range(1, 151)]
    urls = set()
    for rcpts, msg in smtp.messages:
        assert len(rcpts) == 1 and msg["To"].addresses[0].addr_spec == rcpts[0]
        assert msg.get_content_type() == "multipart/alternative"
        assert [p.get_content_type() for p in msg.iter_parts()] == ["text/plain", "text/html"]
        url = msg["List-Unsubscribe"].strip("<>")
        assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert msg["List-Id"] == "main <main.example.com>"
        assert msg["Subject"] == "Story 1 + 2 more" and msg["From"].addresses[0].addr_spec == "news@example.com"
        claims = tokens.verify(SECRET.encode(), url.rsplit("/", 1)[1], "unsubscribe")
        assert (claims.subscriber_id, claims.list_id) == (ids[rcpts[0]], list_id)
        text, html = (p.get_content() for p in msg.iter_parts())
        assert url in text and url in html
        urls.add(url)
    assert len(urls) == 150
    with open_store(initialised) as store:
        assert {r["status"] for r in ledger(store, edition)} == {"sent"}
    assert json.loads(cli("send", "--json").stdout)["sent"] == 0  # re-run: nothing twice
    assert len(smtp.messages) == 150


@pytest.mark.parametrize("smtp", ["none"], indirect=True)
def test_a_refused_address_fails_alone_and_the_rest_go(cli, initialised: Path, smtp: Sink) -> None:
    smtp.refuse = {email_of(3)}
    with open_store(initialised) as store:
        edition = make_edition(store, 5)
    report = json.loads(cli("send", "--json", code=3).stdout)
    assert (report["sent"], report["failed"]) == (4, 1)
    assert any("550" in e for e in report["errors"])
    with open_store(initialised) as store:
        rows = {r["email"]: (r["status"], r["error"]) for r in ledger(store, edition)}
    assert rows[email_of(3)][0] == "failed" and "no such mailbox" in (rows[email_of(3)][1] or "")
    assert sum(s == "sent" for s, _ in rows.values()) == 4
    smtp.refuse = set()
    assert json.loads(cli("send", "--json").stdout)["sent"] == 1  # failed means not sent: a re-run sends it
    assert sorted(r for rcpts, _ in smtp.messages for r in rcpts) == [email_of(i) for i in range(1, 6)]


@pytest.mark.parametrize("smtp", ["starttls"], indirect=True)
def test_a_refused_login_is_a_clear_error_without_the_password(
    cli, initialised: Path, smtp: Sink, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DIGEST_SMTP_PASSWORD", "wrong-password-xyz")
    with open_store(initialised) as store:
        make_edition(store, 3)
    result = cli("send", code=1)
    assert "DIGEST_SMTP_PASSWORD" in result.stderr and "wrong-password" not in result.stderr
    assert smtp.messages == []


@pytest.mark.parametrize("smtp", ["none"], indirect=True)
def test_test_copy_over_smtp_is_marked(cli, initialised: Path, smtp: Sink) -> None:
    with open_store(initialised) as store:
        edition = make_edition(store, 3)
    cli("send", "--to", "editor@example.net")
    ((rcpts, msg),) = smtp.messages
    assert rcpts == ["editor@example.net"] and msg["Subject"].startswith("[TEST] ")
    assert msg["X-Digest-Test"] and msg["List-Unsubscribe"] is None
    with open_store(initialised) as store:
        assert ledger(store, edition) == []


@pytest.mark.parametrize("smtp", ["starttls"], indirect=True)
def test_several_connections_in_flight_each_reused_for_later_batches(
    cli, initialised: Path, smtp: Sink, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DIGEST_SMTP_CONNECTIONS", "2")
    with open_store(initialised) as store:
        edition = make_edition(store, 450)  # five batches of at most 100
    report = json.loads(cli("send", "--json").stdout)
    assert (report["sent"], report["failed"], report["unknown"]) == (450, 0, 0)
    assert 1 <= smtp.sessions <= 2  # at most one connection per batch in flight, each reused
    assert sorted(rcpt for rcpts, _ in smtp.messages for rcpt in rcpts) == [email_of(i) for i in range(1, 451)]
    with open_store(initialised) as store:
        assert {r["status"] for r in ledger(store, edition)} == {"sent"}
