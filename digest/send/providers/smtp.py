"""The ``smtp`` provider: standard-library smtplib, one connection reused for the whole send."""

from __future__ import annotations

import contextlib
import smtplib
import ssl

from digest.config import Config, secret
from digest.errors import ProviderError
from digest.send.message import build_message
from digest.send.providers.base import BatchResult, EditionMail, Recipient


class SmtpProvider:
    name = "smtp"

    def __init__(self, host: str, port: int, *, username: str = "", password: str | None = None,
                 security: str = "starttls", timeout: float = 30.0, batch_size: int = 100,
                 domain: str = "digest.local") -> None:
        self.host, self.port, self.username, self.password = host, port, username, password
        self.security, self.timeout, self.batch_size, self.domain = security, timeout, batch_size, domain
        self._conn: smtplib.SMTP | None = None

    @classmethod
    def from_config(cls, config: Config) -> SmtpProvider:
        s = config.settings.smtp
        password = secret("DIGEST_SMTP_PASSWORD")
        if s.username and not password:
            raise ProviderError("[smtp] username is set but DIGEST_SMTP_PASSWORD is not: export it")
        domain = config.settings.sender.from_email.rpartition("@")[2] or "digest.local"
        return cls(s.host, s.port, username=s.username, password=password, security=s.security,
                   timeout=s.timeout, batch_size=min(config.settings.send.batch_size, 100), domain=domain)

    def _connect(self) -> smtplib.SMTP:
        if self._conn is not None:
            try:
                self._conn.noop()
                return self._conn
            except smtplib.SMTPException:
                self._conn = None
        try:
            if self.security == "ssl":
                conn: smtplib.SMTP = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout,
                                                      context=ssl.create_default_context())
            else:
                conn = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
                if self.security == "starttls":
                    conn.starttls(context=ssl.create_default_context())
            if self.username:
                conn.login(self.username, self.password or "")
        except smtplib.SMTPAuthenticationError as exc:
            raise ProviderError(f"SMTP login refused by {self.host}: {exc.smtp_code} "
                                f"{exc.smtp_error.decode(errors='replace')}; check [smtp] username and"
                                " DIGEST_SMTP_PASSWORD") from None
        except (OSError, smtplib.SMTPException) as exc:
            raise ProviderError(f"cannot reach SMTP server {self.host}:{self.port}: {exc}; check [smtp]") from None
        self._conn = conn
        return conn

    def send_batch(self, mail: EditionMail, recipients: list[Recipient]) -> BatchResult:
        conn = self._connect()
        refused: list[str] = []
        sent_any = False
        try:
            for r in recipients:
                msg = build_message(mail, r, self.domain)
                try:
                    conn.send_message(msg, from_addr=mail.from_email, to_addrs=[r.email])
                    sent_any = True
                except smtplib.SMTPRecipientsRefused as exc:
                    refused.extend(f"{a}: {c} {m.decode(errors='replace')}" for a, (c, m) in exc.recipients.items())
        except (OSError, smtplib.SMTPServerDisconnected) as exc:
            self._conn = None
            return BatchResult("unknown", error=f"connection lost mid-batch: {exc}")
        except smtplib.SMTPException as exc:
            return BatchResult("failed" if not sent_any else "unknown", error=str(exc))
        if refused and not sent_any:
            return BatchResult("failed", error="; ".join(refused))
        return BatchResult("sent", error="; ".join(refused) or None)

    def close(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(OSError, smtplib.SMTPException):
                self._conn.quit()
            self._conn = None
