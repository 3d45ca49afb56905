"""Addresses in the form a channel accepts: IDNA (ASCII) domains unless the channel takes UTF-8.

SendGrid's ``/v3/mail/send`` schema says ``format: email`` (RFC 5321, ASCII) and an SMTP server without
SMTPUTF8 takes only ASCII in the envelope and in address headers. A Unicode domain has an exact ASCII
form (IDNA 2008 with UTS #46 mapping, the ``idna`` package); a Unicode local part has none, so such a
reader cannot be reached through that channel and fails alone, with this module's reason.
"""

from __future__ import annotations

import idna


def ascii_domain(domain: str) -> str:
    """The IDNA (ASCII) form of ``domain``; :class:`ValueError` with a reason when it has none."""
    if domain.isascii():
        return domain.lower()
    try:
        return idna.encode(domain, uts46=True).decode("ascii")
    except idna.IDNAError as exc:
        raise ValueError(f"its domain {domain!r} has no IDNA (ASCII) form ({exc})") from None


def ascii_address(email: str) -> str:
    """``email`` with its domain in IDNA (ASCII) form.

    :class:`ValueError` (with a reason) when it cannot be written in ASCII: a non-ASCII part before the @, or a
    domain with no IDNA form.
    """
    if email.isascii():
        return email
    local, _, domain = email.rpartition("@")
    if not local.isascii():
        raise ValueError(f"the part before @ in {email!r} is not ASCII")
    return f"{local}@{ascii_domain(domain)}"


def normalised_address(email: str) -> str:
    """How two spellings of one mailbox compare: domain in IDNA form and case-folded (the local part as it is,
    but for ASCII case: providers report it lower-cased)."""
    email = email.strip()
    local, at, domain = email.rpartition("@")
    if not at:
        return email.lower()
    try:
        domain = ascii_domain(domain)
    except ValueError:
        domain = domain.casefold()
    return f"{local.lower()}@{domain.lower()}"
