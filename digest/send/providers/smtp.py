"""The ``smtp`` provider: standard-library smtplib, one connection reused for the whole send.

STARTTLS (default) or implicit TLS (``security = "ssl"``), login with ``[smtp] username`` and
``DIGEST_SMTP_PASSWORD``. One multipart/alternative message per recipient. Each recipient gets
its own outcome: refused addresses fail alone; a connection lost mid-batch leaves the message in
progress unknown and the ones not yet tried failed (so a re-run sends them).

Internationalised addresses: to a server that advertises SMTPUTF8 they go as they are; to one that
does not, a Unicode domain is sent in its IDNA (ASCII) form, and an address whose local part is not
ASCII fails alone with a reason (it cannot be written for that server), never the rest of the batch.
"""

from __future__ import annotations

import contextlib
import dataclasses
import smtplib
import socket
import ssl
from email.message import EmailMessage

from digest.config import Config, secret
from digest.errors import ProviderError
from digest.send.message import build_message
from digest.send.providers.address import ascii_address
from digest.send.providers.base import BatchResult, EditionMail, Recipient


class SmtpProvider:
    name = "smtp"
    concurrency = 1

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
    ) -> None:
        self.host, self.port, self.username, self._password = host, port, username, password
        self.security, self.timeout, self.batch_size, self.domain = security, timeout, batch_size, domain
        self._conn: smtplib.SMTP | None = None
        self.connections = 0  # how many times a connection was opened (one per send, unless it drops)

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
        )

    def _connect(self) -> smtplib.SMTP:
        if self._conn is not None:
            try:
                self._conn.noop()  # once per batch: a connection the server closed while idle is reopened
                return self._conn
            except (OSError, smtplib.SMTPException):
                self._drop()
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
            conn.ehlo_or_helo_if_needed()  # its extensions (SMTPUTF8) decide how addresses are written
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
        self._conn = conn
        self.connections += 1
        return conn

    def prepare(self, mail: EditionMail, recipients: list[Recipient]) -> list[EmailMessage]:
        return [build_message(mail, r, self.domain) for r in recipients]

    def _writable(
        self, conn: smtplib.SMTP, recipients: list[Recipient], outcomes: dict[int, tuple[str, str | None]]
    ) -> list[Recipient]:
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
        self.prepare(mail, recipients[:1])  # a template error surfaces before connecting
        conn = self._connect()  # raises ProviderError before anything of this batch left
        outcomes: dict[int, tuple[str, str | None]] = {}
        writable = self._writable(conn, recipients, outcomes)
        sender = mail.from_email
        if not conn.has_extn("smtputf8"):
            # the From/Reply-To headers too: an encoded word inside an address is malformed
            with contextlib.suppress(ValueError):
                sender = ascii_address(sender)
                reply_to = ascii_address(mail.reply_to) if mail.reply_to else ""
                if (sender, reply_to) != (mail.from_email, mail.reply_to):
                    mail = dataclasses.replace(mail, from_email=sender, reply_to=reply_to)
        messages = self.prepare(mail, writable)
        for i, (r, msg) in enumerate(zip(writable, messages, strict=True)):
            try:
                conn.send_message(msg, from_addr=sender, to_addrs=[r.email])
            except smtplib.SMTPNotSupportedError as exc:  # refused before anything was sent: this one alone
                outcomes[r.subscriber_id] = ("failed", f"not sent: {exc}")
            except smtplib.SMTPRecipientsRefused as exc:
                outcomes[r.subscriber_id] = (
                    "failed",
                    "; ".join(f"{code} {_text(text)}" for code, text in exc.recipients.values()),
                )
            except (smtplib.SMTPSenderRefused, smtplib.SMTPDataError) as exc:
                outcomes[r.subscriber_id] = ("failed", f"{exc.smtp_code} {_text(exc.smtp_error)}")
            except (OSError, smtplib.SMTPException) as exc:  # the connection went: this one is unknown
                self._drop()
                outcomes[r.subscriber_id] = ("unknown", f"connection lost while sending: {exc}")
                for rest in writable[i + 1 :]:
                    outcomes[rest.subscriber_id] = ("failed", "not sent: the SMTP connection was lost")
                break
        if outcomes and all(status == "failed" for status, _ in outcomes.values()) and len(outcomes) == len(recipients):
            return BatchResult("failed", error=next(iter(outcomes.values()))[1], outcomes=outcomes)
        return BatchResult("sent", outcomes=outcomes)

    def _drop(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(OSError, smtplib.SMTPException):
                self._conn.close()
        self._conn = None

    def check(self) -> None:
        """Connect, log in and say hello, then hang up (for 'digest doctor')."""
        try:
            self._connect()
        finally:
            self.close()

    def close(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(OSError, smtplib.SMTPException):
                self._conn.quit()
            self._drop()


def _text(reply: bytes | str) -> str:
    """An SMTP server's reply text (smtplib gives bytes, or str for replies it made up)."""
    return reply.decode(errors="replace") if isinstance(reply, bytes) else reply
