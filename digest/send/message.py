"""One RFC 5322 message per recipient: multipart/alternative with the list headers."""

from __future__ import annotations

import binascii
import html as html_module
import os
import random
import re
import secrets
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import EmailPolicy
from email.utils import format_datetime, make_msgid
from typing import Any

from digest import clock, placeholders
from digest.send.providers.base import EditionMail, Recipient

# Headers that mail clients read as plain text (RFC 2369, RFC 8058, RFC 2919): never RFC 2047-encoded.
RAW_HEADERS = frozenset({"list-unsubscribe", "list-unsubscribe-post", "list-id", "feedback-id"})
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
        "List-Unsubscribe": mail.list_unsubscribe(recipient.unsubscribe_url),
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
    if mail.list_headers:
        for name, value in list_headers(mail, recipient).items():
            msg[name] = value
    if mail.feedback_id:
        msg["Feedback-ID"] = mail.feedback_id
    if mail.kind == "edition":
        msg["X-Digest-Edition"] = str(mail.edition_id)
    else:
        msg["X-Digest-Mail"] = mail.kind
    if mail.test:
        msg["X-Digest-Test"] = "yes: a test copy, not the edition's send"
    msg.set_content(text, subtype="plain", charset="utf-8", cte="quoted-printable")
    msg.add_alternative(html, subtype="html", charset="utf-8", cte="quoted-printable")
    return msg


# -- the fast path: shared parts encoded once per edition ---------------------------------------------------------
# A display name that needs no quoting or encoding (RFC 5322 atoms separated by single spaces) and a plain ASCII
# address: the library would write them exactly as they are. Anything else goes through the library.
_PLAIN_NAME = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?: [A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*\Z")
_PLAIN_EMAIL = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*@[A-Za-z0-9.-]+\Z")
# What bytes.splitlines() breaks at (the library splits the encoded body): a value holding one changes the lines.
_LINE_BREAKS = re.compile("[\r\n]")
_FOLD_AT = 78  # the policy's max_line_length: longer header lines are folded by the library


def _qp(text: str) -> bytes:
    """Quoted-printable bytes of ``text`` (UTF-8), lines as in ``text``; C speed (binascii)."""
    return binascii.b2a_qp(text.encode("utf-8"), istext=True)


def _qp_chunk(text: str) -> bytes:
    """``text`` encoded to be joined with other chunks: it ends on a line break, hard or soft (``=``)."""
    data = _qp(text)
    return data if not data or data.endswith(b"\n") else data + b"=\n"


class MessageTemplate:
    """One edition's messages, with everything readers share encoded once.

    :func:`build_message` costs a MIME tree and a quoted-printable pass over the whole HTML per reader; here the
    headers every reader shares and the literal parts of the text and HTML bodies are encoded once, and a
    reader's message is their To, Date, Message-ID and unsubscribe headers, their few placeholder values
    encoded, and one ``join``. The chunks each end on a (soft) line break, so the quoted-printable stays valid
    and decodes to the same text as the library's. Anything unusual (a name needing quotes or RFC 2047, an
    internationalised address, a value with a line break) takes :func:`build_message`, so the bytes always
    mean the same.
    """

    def __init__(self, mail: EditionMail, domain: str, linesep: str = "\n") -> None:
        self.mail, self.domain, self.linesep = mail, domain, linesep
        self._crlf = linesep == "\r\n"
        self._policy = POLICY if linesep == POLICY.linesep else POLICY.clone(linesep=linesep)
        html, text = mail.rendered.html, mail.rendered.text
        self.fast = domain.isascii() and "\r" not in text and "\r" not in html
        self._boundary = "=" * 15 + secrets.token_hex(10) + "=="  # '=' never appears in quoted-printable data
        first = self._headers(
            [
                ("Subject", ("[TEST] " if mail.test else "") + mail.subject),
                ("From", Address(mail.from_name, addr_spec=mail.from_email) if mail.from_name else mail.from_email),
            ]
        )
        second = self._headers([("Reply-To", mail.reply_to)] if mail.reply_to else [])
        tail: list[tuple[str, Any]] = []
        if mail.list_headers:
            tail += [("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"), ("List-Id", mail.list_id_header)]
        if mail.feedback_id:
            tail.append(("Feedback-ID", mail.feedback_id))
        tail.append(
            ("X-Digest-Edition", str(mail.edition_id)) if mail.kind == "edition" else ("X-Digest-Mail", mail.kind)
        )
        if mail.test:
            tail.append(("X-Digest-Test", "yes: a test copy, not the edition's send"))
        tail += [("MIME-Version", "1.0"), ("Content-Type", f'multipart/alternative; boundary="{self._boundary}"')]
        third = self._headers(tail)
        part = '--{b}\nContent-Type: text/{sub}; charset="utf-8"\nContent-Transfer-Encoding: quoted-printable\n\n'
        text_head = self._bytes("\n" + part.format(b=self._boundary, sub="plain"))
        html_head = self._bytes("\n" + part.format(b=self._boundary, sub="html"))
        end = self._bytes(f"\n--{self._boundary}--\n")
        self._first, self._second, self._third = first, second, third
        # Both bodies as the library normalises them (its lines joined by \n, one at the end), split at placeholders:
        # the literals already encoded, the placeholder names between them.
        self._text = self._split(_normal(text))
        self._html = self._split(_normal(html))
        self._text_head, self._html_head, self._end = text_head, html_head, end
        self.fast = self.fast and self._boundary not in text and self._boundary not in html

    def _bytes(self, text: str) -> bytes:
        data = text.encode("ascii")
        return data.replace(b"\n", b"\r\n") if self._crlf else data

    def _headers(self, items: list[tuple[str, Any]]) -> bytes:
        policy = self._policy
        return b"".join(policy.fold_binary(*policy.header_store_parse(name, value)) for name, value in items)

    def _split(self, body: str) -> tuple[list[bytes], list[str]]:
        """The encoded literals of ``body`` and the placeholder names between them (one literal more than names)."""
        literals, names = placeholders.split(body)
        return [self._encoded(literal) for literal in literals], names

    def _encoded(self, text: str) -> bytes:
        data = _qp_chunk(text)
        return data.replace(b"\n", b"\r\n") if self._crlf else data

    def _value(self, value: str) -> bytes:
        return self._encoded(value) if value else b""

    def plain(self, recipient: Recipient) -> bool:
        """Whether the fast path writes this reader's message (else the email library does)."""
        name, email = recipient.name, recipient.email
        unsubscribe = self.mail.list_unsubscribe(recipient.unsubscribe_url) if self.mail.list_headers else ""
        return bool(
            self.fast
            and _PLAIN_EMAIL.match(email)
            and (not name or _PLAIN_NAME.match(name))
            and len(name) + len(email) + 7 <= _FOLD_AT
            and unsubscribe.isascii()
            and len(unsubscribe) + 20 <= MAX_LINE
            and not any(_LINE_BREAKS.search(v) for v in recipient.values.values())
        )

    def render(self, recipient: Recipient, date: str, stamp: str) -> bytes:
        """One reader's message as bytes (lines end with ``linesep``); ``date`` and ``stamp`` are per batch."""
        mail, values, sep = self.mail, recipient.values, self.linesep
        name, email = recipient.name, recipient.email
        unsubscribe = mail.list_unsubscribe(recipient.unsubscribe_url) if mail.list_headers else ""
        if not self.plain(recipient):
            return build_message(mail, recipient, self.domain).as_bytes(policy=self._policy)
        to = f"{name} <{email}>" if name else email
        # make_msgid's shape: time, pid, 64 random bits, the edition and reader, the sender's domain
        message_id = f"<{stamp}.{random.getrandbits(64)}.e{mail.edition_id}.s{recipient.subscriber_id}@{self.domain}>"
        personal = f"To: {to}{sep}"
        per_reader = f"Date: {date}{sep}Message-ID: {message_id}{sep}"
        if unsubscribe:
            per_reader += f"List-Unsubscribe: {unsubscribe}{sep}"
        parts = [self._first, personal.encode("ascii"), self._second, per_reader.encode("ascii"), self._third]
        parts.append(self._text_head)
        literals, names = self._text
        parts.append(literals[0])
        for slot, literal in zip(names, literals[1:], strict=True):
            parts += (self._value(values.get(slot, "")), literal)
        parts.append(self._html_head)
        literals, names = self._html
        parts.append(literals[0])
        for slot, literal in zip(names, literals[1:], strict=True):
            parts += (self._value(html_module.escape(values.get(slot, ""), quote=True)), literal)
        parts.append(self._end)
        return b"".join(parts)

    def render_batch(self, recipients: list[Recipient]) -> list[bytes]:
        """Every message of one batch: the Date and the Message-ID's time part are taken once for the batch."""
        now = clock.now()
        date = format_datetime(now)
        stamp = f"{int(now.timestamp() * 100)}.{os.getpid()}"
        return [self.render(r, date, stamp) for r in recipients]


def _normal(body: str) -> str:
    """The body as ``set_content`` writes it (no ``\\r`` in it): its lines, with a line break at the end."""
    return body if body.endswith("\n") else body + "\n"
