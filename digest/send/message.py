"""One RFC 5322 message per recipient: multipart/alternative with the list headers."""

from __future__ import annotations

import binascii
import html as html_module
import os
import random
import re
import secrets
import threading
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


def mailbox(name: str, email: str) -> Address | str:
    """An address header's value: the library's ``Address``, or for an address it refuses to hold (a Unicode local
    part, which only an SMTPUTF8 server takes) the display name quoted by hand: that reader is not left out."""
    if not name:
        return email
    try:
        return Address(name, addr_spec=email)
    except ValueError:  # email.errors.NonASCIILocalPartDefect, or a line break in the name
        quoted = " ".join(name.split()).replace("\\", "\\\\").replace('"', '\\"')
        return f'"{quoted}" <{email}>'


def build_message(mail: EditionMail, recipient: Recipient, domain: str) -> EmailMessage:
    html, text = mail.rendered.fill(recipient.values)
    msg = EmailMessage(policy=POLICY)
    msg["Subject"] = ("[TEST] " if mail.test else "") + mail.subject
    msg["From"] = mailbox(mail.from_name, mail.from_email)
    msg["To"] = mailbox(recipient.name, recipient.email)
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
    and decodes to the same text as the library's. A reader whose To needs the library (quotes, RFC 2047, an
    internationalised address, folding) has that header alone written by it; a value with a line break (it would
    change the body's lines) takes :func:`build_message` whole, so the bytes always mean the same.

    One template per edition (or per variant: it is keyed by the :class:`EditionMail`, which holds the
    ``Rendered``), line ending and ``utf8`` (headers as smtplib writes them for an SMTPUTF8 envelope).
    """

    def __init__(
        self, mail: EditionMail, domain: str, linesep: str = "\n", *, utf8: bool = False, stuffed: bool = False
    ) -> None:
        self.mail, self.domain, self.linesep, self.utf8, self.stuffed = mail, domain, linesep, utf8, stuffed
        self._crlf = linesep == "\r\n"
        self._memo: dict[tuple[str, bool], tuple[str, bytes]] = {}  # per slot: the last value and its encoding
        # utf8: headers in raw UTF-8, as smtplib writes a message whose envelope needs SMTPUTF8
        self._policy = (
            POLICY if (linesep, utf8) == (POLICY.linesep, False) else POLICY.clone(linesep=linesep, utf8=utf8)
        )
        html, text = mail.rendered.html, mail.rendered.text
        self.fast = domain.isascii() and "\r" not in text and "\r" not in html
        self._boundary = "=" * 15 + secrets.token_hex(10) + "=="  # '=' never appears in quoted-printable data
        first = self._headers(
            [
                ("Subject", ("[TEST] " if mail.test else "") + mail.subject),
                ("From", mailbox(mail.from_name, mail.from_email)),
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
        # the library's html part carries its own MIME-Version (add_alternative's copy): every header as it writes them
        html_head = self._bytes("\n" + part.format(b=self._boundary, sub="html")[:-1] + "MIME-Version: 1.0\n\n")
        end = self._bytes(f"\n--{self._boundary}--\n")
        self._first, self._second, self._third = first, second, third
        # Both bodies as the library normalises them (its lines joined by \n, one at the end), split at placeholders:
        # the literals already encoded, the placeholder names between them.
        self._text = self._split(_normal(text))
        self._html = self._split(_normal(html))
        self._text_slots = list(zip(self._text[1], self._text[0][1:], strict=True))
        self._html_slots = list(zip(self._html[1], self._html[0][1:], strict=True))
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
        if self._crlf:
            data = data.replace(b"\n", b"\r\n")
        if self.stuffed:  # SMTP's dot-stuffing (RFC 5321 4.5.2), done once: every chunk starts a line
            data = (b"." if data.startswith(b".") else b"") + data.replace(b"\n.", b"\n..")
        return data

    def _value(self, slot: str, value: str, html: bool) -> bytes:
        """A reader's value encoded; the last one per slot is kept (the web version's link is everyone's)."""
        if not value:
            return b""
        key = (slot, html)
        last = self._memo.get(key)
        if last is not None and last[0] == value:
            return last[1]
        data = self._encoded(html_module.escape(value, quote=True) if html else value)
        self._memo[key] = (value, data)
        return data

    def plain(self, recipient: Recipient) -> bool:
        """Whether this reader's headers are written without the email library (else their To, and a long or
        non-ASCII List-Unsubscribe, go through it; the bodies are joined from the encoded chunks either way)."""
        name, email = recipient.name, recipient.email
        return bool(
            _PLAIN_EMAIL.match(email)
            and (not name or _PLAIN_NAME.match(name))
            and len(name) + len(email) + 7 <= _FOLD_AT
            and self._raw_unsubscribe(recipient)
        )

    def joinable(self, recipient: Recipient) -> bool:
        """Whether this reader's message is joined from the encoded chunks (else the email library builds it all):
        a value holding a line break would change the body's lines, so such a reader takes the library."""
        joined = "".join(recipient.values.values())  # the library splits the body at \r and \n (bytes.splitlines)
        return self.fast and "\n" not in joined and "\r" not in joined

    def _unsubscribe(self, recipient: Recipient) -> str:
        return self.mail.list_unsubscribe(recipient.unsubscribe_url) if self.mail.list_headers else ""

    def _raw_unsubscribe(self, recipient: Recipient) -> bool:
        unsubscribe = self._unsubscribe(recipient)
        return unsubscribe.isascii() and len(unsubscribe) + 20 <= MAX_LINE

    def render(self, recipient: Recipient, date: str, stamp: str) -> bytes:
        """One reader's message as bytes (lines end with ``linesep``); ``date`` and ``stamp`` are per batch."""
        mail, values, sep = self.mail, recipient.values, self.linesep
        if not self.joinable(recipient):
            data = build_message(mail, recipient, self.domain).as_bytes(policy=self._policy)
            return data.replace(b"\n.", b"\n..") if self.stuffed else data  # no header line starts with a dot
        name, email = recipient.name, recipient.email
        unsubscribe = self._unsubscribe(recipient)
        # make_msgid's shape: time, pid, 64 random bits, the edition and reader, the sender's domain
        message_id = f"<{stamp}.{random.getrandbits(64)}.e{mail.edition_id}.s{recipient.subscriber_id}@{self.domain}>"
        per_reader = f"Date: {date}{sep}Message-ID: {message_id}{sep}"
        if (
            _PLAIN_EMAIL.match(email)
            and (not name or _PLAIN_NAME.match(name))
            and len(name) + len(email) + 7 <= _FOLD_AT
            and unsubscribe.isascii()
            and len(unsubscribe) + 20 <= MAX_LINE
        ):  # as :meth:`plain` says: the library would write these as they are
            personal = f"To: {name} <{email}>{sep}" if name else f"To: {email}{sep}"
            if unsubscribe:
                per_reader += f"List-Unsubscribe: {unsubscribe}{sep}"
            to, tail = personal.encode("ascii"), per_reader.encode("ascii")
        else:  # quoting, RFC 2047 words, an IDN address, folding: the library writes these headers, alone
            to = self._headers([("To", mailbox(name, email))])
            tail = per_reader.encode("ascii")
            if unsubscribe:
                tail += self._headers([("List-Unsubscribe", unsubscribe)])
        get, value = values.get, self._value
        parts = [self._first, to, self._second, tail, self._third, self._text_head, self._text[0][0]]
        for slot, literal in self._text_slots:
            parts += (value(slot, get(slot, ""), False), literal)
        parts += (self._html_head, self._html[0][0])
        for slot, literal in self._html_slots:
            parts += (value(slot, get(slot, ""), True), literal)
        parts.append(self._end)
        return b"".join(parts)

    @staticmethod
    def stamps() -> tuple[str, str]:
        """The Date and the Message-ID's time part, taken once for a batch."""
        now = clock.now()
        return format_datetime(now), f"{int(now.timestamp() * 100)}.{os.getpid()}"

    def render_batch(self, recipients: list[Recipient]) -> list[bytes]:
        """Every message of one batch: the Date and the Message-ID's time part are taken once for the batch."""
        date, stamp = self.stamps()
        return [self.render(r, date, stamp) for r in recipients]


class Templates:
    """A provider's templates, one per edition and variant (each ``Rendered``) and form, built on first use and
    shared by its worker threads; the few most recent are kept (a send walks one edition, a few variants)."""

    def __init__(self, domain: str, linesep: str = "\n", *, stuffed: bool = False, keep: int = 8) -> None:
        self.domain, self.linesep, self.stuffed, self.keep = domain, linesep, stuffed, keep
        self._lock = threading.Lock()
        self._found: dict[tuple[int, bool, bool], MessageTemplate] = {}

    def get(self, mail: EditionMail, utf8: bool = False) -> MessageTemplate:
        key = (id(mail.rendered), mail.test, utf8)  # the template holds its Rendered: the id is not reused meanwhile
        with self._lock:
            found = self._found.get(key)
            if found is None or found.mail != mail:
                if len(self._found) >= self.keep:
                    self._found.pop(next(iter(self._found)))
                found = MessageTemplate(mail, self.domain, self.linesep, utf8=utf8, stuffed=self.stuffed)
                self._found[key] = found
            return found

    def clear(self) -> None:
        with self._lock:
            self._found = {}


def _normal(body: str) -> str:
    """The body as ``set_content`` writes it (no ``\\r`` in it): its lines, with a line break at the end."""
    return body if body.endswith("\n") else body + "\n"
