"""One RFC 5322 message per recipient: multipart/alternative with the list headers."""

from __future__ import annotations

from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import EmailPolicy
from email.utils import format_datetime, make_msgid
from typing import Any

from digest import clock
from digest.send.providers.base import EditionMail, Recipient

# Headers that mail clients read as plain text (RFC 2369, RFC 8058, RFC 2919): never RFC 2047-encoded.
RAW_HEADERS = frozenset({"list-unsubscribe", "list-unsubscribe-post", "list-id"})
MAX_LINE = 998  # RFC 5322's hard limit for one header line


class MessagePolicy(EmailPolicy):
    """The default policy, except that the list headers are written as they are (plain ASCII, unfolded).

    The default policy folds a header longer than 78 characters and, when one token (a long unsubscribe URL)
    does not fit a line, turns it into ``=?utf-8?q?...?=`` encoded words: clients then see no
    ``<https://...>`` and offer no one-click unsubscribe.
    """

    def _raw(self, name: str, value: Any) -> str | None:
        text = str(value)
        if (
            name.lower() in RAW_HEADERS
            and text.isascii()
            and "\r" not in text
            and "\n" not in text
            and len(name) + 2 + len(text) <= MAX_LINE
        ):
            return f"{name}: {text}{self.linesep}"
        return None

    def fold(self, name: str, value: Any) -> str:
        return self._raw(name, value) or super().fold(name, value)

    def fold_binary(self, name: str, value: Any) -> bytes:
        raw = self._raw(name, value)
        return raw.encode("ascii") if raw is not None else super().fold_binary(name, value)


POLICY = MessagePolicy()


def list_headers(mail: EditionMail, recipient: Recipient) -> dict[str, str]:
    """Per-recipient headers: RFC 2369/8058 one-click unsubscribe and RFC 2919 List-Id."""
    return {
        "List-Unsubscribe": f"<{recipient.unsubscribe_url}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        "List-Id": mail.list_id_header,
    }


def build_message(mail: EditionMail, recipient: Recipient, domain: str) -> EmailMessage:
    html, text = mail.rendered.fill(recipient.values)
    msg = EmailMessage(policy=POLICY)
    msg["Subject"] = ("[TEST] " if mail.test else "") + mail.subject
    msg["From"] = Address(mail.from_name, addr_spec=mail.from_email) if mail.from_name else mail.from_email
    msg["To"] = Address(recipient.name, addr_spec=recipient.email) if recipient.name else recipient.email
    if mail.reply_to:
        msg["Reply-To"] = mail.reply_to
    msg["Date"] = format_datetime(clock.now())
    msg["Message-ID"] = make_msgid(idstring=f"e{mail.edition_id}.s{recipient.subscriber_id}", domain=domain)
    if not mail.test:
        for name, value in list_headers(mail, recipient).items():
            msg[name] = value
    msg["X-Digest-Edition"] = str(mail.edition_id)
    if mail.test:
        msg["X-Digest-Test"] = "yes: a test copy, not the edition's send"
    msg.set_content(text, subtype="plain", charset="utf-8", cte="quoted-printable")
    msg.add_alternative(html, subtype="html", charset="utf-8", cte="quoted-printable")
    return msg
