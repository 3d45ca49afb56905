"""The ``smtp`` provider: standard-library smtplib, connections reused for the whole send.

STARTTLS (default) or implicit TLS (``security = "ssl"``), login with ``[smtp] username`` and
``DIGEST_SMTP_PASSWORD``. One multipart/alternative message per recipient, joined from the edition's
:class:`~digest.send.message.MessageTemplate` (shared parts encoded once). Up to ``[smtp] connections``
batches are in flight at once, each on a connection of its own taken from a pool (opened once, reused by
later batches). To a server that offers PIPELINING (RFC 2920) a message costs one round trip: its body, the
final dot and the next message's MAIL, RCPT and DATA go in one write.

Each recipient gets its own outcome: refused addresses fail alone; a connection lost mid-batch leaves the
message whose body was written unknown and the ones not yet written failed (so a re-run sends them).

Internationalised addresses: to a server that advertises SMTPUTF8 they go as they are (the envelope with
``SMTPUTF8``, headers in UTF-8, as smtplib does); to one that does not, a Unicode domain is sent in its IDNA
(ASCII) form, and an address whose local part is not ASCII fails alone with a reason (it cannot be written for
that server), never the rest of the batch.
"""

from __future__ import annotations

import contextlib
import dataclasses
import smtplib
import socket
import ssl
import threading
from collections.abc import Callable

from digest.config import Config, secret
from digest.errors import ProviderError
from digest.send.message import MessageTemplate, Templates
from digest.send.providers.address import ascii_address
from digest.send.providers.base import BatchResult, EditionMail, Recipient

Outcomes = dict[int, tuple[str, str | None]]


class SmtpProvider:
    name = "smtp"

    def __init__(
        self,
        host: str,
        port: int,
        *,
        username: str = "",
        password: str | None = None,
        security: str = "starttls",
        timeout: float = 30.0,
        batch_size: int = 100,
        domain: str = "digest.local",
        connections: int = 1,
    ) -> None:
        self.host, self.port, self.username, self._password = host, port, username, password
        self.security, self.timeout, self.batch_size, self.domain = security, timeout, batch_size, domain
        self.concurrency = max(1, connections)  # batches in flight, one connection each
        self._idle: list[smtplib.SMTP] = []  # open connections no batch is using
        self._lock = threading.Lock()
        self._templates = Templates(domain, "\r\n", stuffed=True)
        self.opened = 0  # how many connections were opened (at most one per batch in flight, unless one drops)

    @classmethod
    def from_config(cls, config: Config, *, dry_run: bool = False) -> SmtpProvider:
        s = config.settings.smtp
        password = secret("DIGEST_SMTP_PASSWORD")
        if s.username and not password and not dry_run:
            raise ProviderError("[smtp] username is set but DIGEST_SMTP_PASSWORD is not: export it")
        domain = config.settings.sender.from_email.rpartition("@")[2] or "digest.local"
        return cls(
            s.host,
            s.port,
            username=s.username,
            password=password,
            security=s.security,
            timeout=s.timeout,
            batch_size=min(config.settings.send.batch_size, 100),
            domain=domain,
            connections=s.connections,
        )

    # -- connections -----------------------------------------------------------------------
    def _checkout(self) -> smtplib.SMTP:
        """An idle connection still alive, or a new one (raises ProviderError before anything of a batch left)."""
        while True:
            with self._lock:
                conn = self._idle.pop() if self._idle else None
            if conn is None:
                return self._open()
            try:
                conn.noop()  # once per batch: a connection the server closed while idle is reopened
                return conn
            except (OSError, smtplib.SMTPException):
                self._drop(conn)

    def _checkin(self, conn: smtplib.SMTP) -> None:
        with self._lock:
            self._idle.append(conn)

    def _open(self) -> smtplib.SMTP:
        try:
            if self.security == "ssl":
                conn: smtplib.SMTP = smtplib.SMTP_SSL(
                    self.host, self.port, timeout=self.timeout, context=ssl.create_default_context()
                )
            else:
                conn = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
            if conn.sock is not None:  # small writes must not wait for delayed ACKs
                with contextlib.suppress(OSError):
                    conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if self.security == "starttls":
                conn.starttls(context=ssl.create_default_context())
            if self.username:
                conn.login(self.username, self._password or "")
            conn.ehlo_or_helo_if_needed()  # its extensions (SMTPUTF8, PIPELINING) decide how mail is written
        except smtplib.SMTPAuthenticationError as exc:
            raise ProviderError(
                f"SMTP login refused by {self.host}: {exc.smtp_code} "
                f"{_text(exc.smtp_error)}; check [smtp] username and"
                " DIGEST_SMTP_PASSWORD"
            ) from None
        except smtplib.SMTPNotSupportedError as exc:
            raise ProviderError(
                f"SMTP server {self.host}:{self.port} does not support this: {exc}; check"
                " [smtp] security (starttls, ssl or none)"
            ) from None
        except (OSError, smtplib.SMTPException) as exc:
            raise ProviderError(
                f"cannot reach SMTP server {self.host}:{self.port} ({exc}); check [smtp] host, port and security"
            ) from None
        with self._lock:
            self.opened += 1
        return conn

    # -- messages --------------------------------------------------------------------------
    def template(self, mail: EditionMail, utf8: bool = False) -> MessageTemplate:
        """The edition's shared parts, encoded once (CRLF, dot-stuffed, as SMTP carries them) for all its batches."""
        return self._templates.get(mail, utf8)

    def prepare(self, mail: EditionMail, recipients: list[Recipient]) -> list[bytes]:
        """Each recipient's message as it goes after DATA (dot-stuffed; headers in UTF-8 where the envelope needs
        SMTPUTF8)."""
        render = self.renderer(mail)
        return [render(r) for r in recipients]

    def renderer(self, mail: EditionMail) -> Callable[[Recipient], bytes]:
        """One batch's message builder: the Date and the Message-ID's time are the batch's."""
        date, stamp = MessageTemplate.stamps()
        ascii_sender = mail.from_email.isascii()
        plain, utf8 = self.template(mail), None

        def render(r: Recipient) -> bytes:
            nonlocal utf8
            if ascii_sender and r.email.isascii():
                return plain.render(r, date, stamp)
            utf8 = utf8 or self.template(mail, True)  # smtplib writes headers in UTF-8 for an SMTPUTF8 envelope
            return utf8.render(r, date, stamp)

        return render

    def _writable(self, conn: smtplib.SMTP, recipients: list[Recipient], outcomes: Outcomes) -> list[Recipient]:
        """The recipients as this server can take them (IDNA domains without SMTPUTF8); the rest fail alone."""
        if conn.has_extn("smtputf8"):
            return recipients
        out = []
        for r in recipients:
            try:
                out.append(r if r.email.isascii() else dataclasses.replace(r, email=ascii_address(r.email)))
            except ValueError as exc:
                outcomes[r.subscriber_id] = (
                    "failed",
                    f"not sent: {exc} and SMTP server {self.host} does not support"
                    " SMTPUTF8; use a server that does, or ask for an ASCII address",
                )
        return out

    def send_batch(self, mail: EditionMail, recipients: list[Recipient]) -> BatchResult:
        self.template(mail)  # a template error surfaces before connecting
        conn = self._checkout()  # raises ProviderError before anything of this batch left
        outcomes: Outcomes = {}
        try:
            writable = self._writable(conn, recipients, outcomes)
            sender = mail.from_email
            if not conn.has_extn("smtputf8"):
                # the From/Reply-To headers too: an encoded word inside an address is malformed
                with contextlib.suppress(ValueError):
                    sender = ascii_address(sender)
                    reply_to = ascii_address(mail.reply_to) if mail.reply_to else ""
                    if (sender, reply_to) != (mail.from_email, mail.reply_to):
                        mail = dataclasses.replace(mail, from_email=sender, reply_to=reply_to)
            render = self.renderer(mail)
        except BaseException:
            self._checkin(conn)  # nothing was written on it
            raise
        try:
            lost = _Transfer(conn, sender, outcomes, self.host).run(writable, render)
        except BaseException:
            self._drop(conn)  # in an unknown state
            raise
        if lost:
            self._drop(conn)
        else:
            self._checkin(conn)
        if outcomes and all(status == "failed" for status, _ in outcomes.values()) and len(outcomes) == len(recipients):
            return BatchResult("failed", error=next(iter(outcomes.values()))[1], outcomes=outcomes)
        return BatchResult("sent", outcomes=outcomes)

    def _drop(self, conn: smtplib.SMTP) -> None:
        with contextlib.suppress(OSError, smtplib.SMTPException):
            conn.close()

    def check(self) -> None:
        """Connect, log in and say hello, then hang up (for 'digest doctor')."""
        try:
            self._checkin(self._checkout())
        finally:
            self.close()

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        self._templates.clear()
        for conn in idle:
            with contextlib.suppress(OSError, smtplib.SMTPException):
                conn.quit()
            self._drop(conn)


class _Transfer:
    """One batch's messages over one connection, each with its own outcome (absent from ``outcomes``: sent).

    Commands are queued with the reply each expects and written together when a reply is needed before going
    on: with PIPELINING after each DATA (its 354 must come before the body), otherwise after every command.
    """

    def __init__(self, conn: smtplib.SMTP, sender: str, outcomes: Outcomes, host: str) -> None:
        self.conn, self.sender, self.outcomes, self.host = conn, sender, outcomes, host
        self.pipelining = conn.has_extn("pipelining")
        self.size = conn.has_extn("size")
        self.smtputf8 = conn.has_extn("smtputf8")
        self.out: list[bytes] = []
        self.expect: list[tuple[str, Recipient | None]] = []  # the replies the queued commands will bring
        self.body: dict[int, bytes] = {}  # message to write once its DATA had its 354
        self.written: set[int] = set()  # bodies written whose final reply has not come: unknown if the line drops
        self.sent: set[int] = set()  # final reply 250
        self.broken: set[int] = set()  # transactions refused before their body: their DATA (if 354) is aborted
        self.rset = False  # a refused transaction is reset before the next MAIL

    def queue(self, data: bytes, kind: str, r: Recipient | None = None) -> None:
        self.out.append(data)
        self.expect.append((kind, r))
        if not self.pipelining:
            self.flush()

    def flush(self) -> None:
        if not self.out:
            return
        data, self.out = b"".join(self.out), []
        expect, self.expect = self.expect, []
        self.conn.send(data)
        for kind, r in expect:
            code, text = self.conn.getreply()
            self.reply(kind, r, code, text)

    def reply(self, kind: str, r: Recipient | None, code: int, text: bytes) -> None:
        if r is None:  # RSET, or the dot ending an aborted DATA: nothing depends on it
            return
        sid = r.subscriber_id
        if kind == "end":
            self.written.discard(sid)
            if code == 250:
                self.sent.add(sid)
            else:
                self.outcomes[sid] = ("failed", f"{code} {_text(text)}")
            return
        if kind == "data":
            if code == 354 and sid not in self.broken:
                body = self.body.pop(sid)
                self.written.add(sid)
                self.queue(body, "end", r)
                return
            if code == 354:  # the server took DATA for a refused transaction: end it empty (no recipients)
                self.queue(b".\r\n", "abort")
            elif sid not in self.outcomes:
                self.outcomes[sid] = ("failed", f"{code} {_text(text)}")
            self.body.pop(sid, None)
            self.rset = True
            return
        if code not in (250, 251) and sid not in self.outcomes:  # MAIL or RCPT refused: this reader fails alone
            self.outcomes[sid] = ("failed", f"{code} {_text(text)}")
        if code not in (250, 251):
            self.broken.add(sid)

    def run(self, recipients: list[Recipient], render: Callable[[Recipient], bytes]) -> bool:
        """Send every message; True when the connection was lost: then a message whose body was written without
        its final reply is unknown, and every one not yet written failed (certainly not sent)."""
        try:
            for r in recipients:
                international = not (self.sender + r.email).isascii()
                if international and not self.smtputf8:
                    self.outcomes[r.subscriber_id] = (
                        "failed",
                        f"not sent: SMTP server {self.host} does not support SMTPUTF8, which {r.email} needs",
                    )
                    continue
                data = render(r)  # one at a time: memory holds one message per connection
                options = f" SIZE={len(data)}" if self.size else ""
                options += " SMTPUTF8 BODY=8BITMIME" if international else ""
                self.body[r.subscriber_id] = data + (b".\r\n" if data.endswith(b"\r\n") else b"\r\n.\r\n")
                if self.rset:
                    self.rset = False
                    self.queue(b"RSET\r\n", "rset")
                encoding = "utf-8" if international else "ascii"
                self.queue(f"MAIL FROM:<{self.sender}>{options}\r\n".encode(encoding), "mail", r)
                self.queue(f"RCPT TO:<{r.email}>\r\n".encode(encoding), "rcpt", r)
                self.queue(b"DATA\r\n", "data", r)
                self.flush()  # its 354 (and the previous message's final reply) before its body goes
            self.flush()  # the last body, and its final reply
            if self.rset:
                self.queue(b"RSET\r\n", "rset")
                self.flush()
            return False
        except (OSError, smtplib.SMTPException) as exc:  # the connection went
            for r in recipients:
                sid = r.subscriber_id
                if sid in self.outcomes or sid in self.sent:
                    continue
                if sid in self.written:
                    self.outcomes[sid] = ("unknown", f"connection lost while sending: {exc}")
                else:
                    self.outcomes[sid] = ("failed", "not sent: the SMTP connection was lost")
            return True


def _text(reply: bytes | str) -> str:
    """An SMTP server's reply text (smtplib gives bytes, or str for replies it made up)."""
    return reply.decode(errors="replace") if isinstance(reply, bytes) else reply
