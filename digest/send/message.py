"""One RFC 5322 message per recipient: multipart/alternative with the list headers."""

from __future__ import annotations

from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from digest.models import utcnow
from digest.send.providers.base import EditionMail, Recipient


def list_headers(mail: EditionMail, recipient: Recipient) -> dict[str, str]:
    """Per-recipient headers: RFC 2369/8058 one-click unsubscribe and RFC 2919 List-Id."""
    return {
        "List-Unsubscribe": f"<{recipient.unsubscribe_url}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        "List-Id": mail.list_id_header,
    }


def build_message(mail: EditionMail, recipient: Recipient, domain: str) -> EmailMessage:
    html, text = mail.rendered.fill(recipient.values)
    msg = EmailMessage()
    msg["Subject"] = ("[TEST] " if mail.test else "") + mail.subject
    msg["From"] = Address(mail.from_name, addr_spec=mail.from_email) if mail.from_name else mail.from_email
    msg["To"] = Address(recipient.name, addr_spec=recipient.email) if recipient.name else recipient.email
    if mail.reply_to:
        msg["Reply-To"] = mail.reply_to
    msg["Date"] = format_datetime(utcnow())
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
