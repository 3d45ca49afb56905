"""What may enter the store: addresses, names and attributes, validated and normalised.

Address policy ("conservative": every address we accept can be delivered by any mail system on the
path, SendGrid and plain SMTP without SMTPUTF8 included). email-validator does the work with
``strict=True`` (RFC 5321 length limits) and ``allow_smtputf8=False`` (the part before the @ must be
ASCII; internationalised *domains* are fine, they travel as IDNA). Quoted local parts, IP literals,
dotless or numeric top-level domains and special-use names (``localhost``, ``.local``, ``.test``...)
are refused. DNS is asked only with ``check_deliverability=True``.

Header injection: CR, LF, NUL and every other control or line/paragraph separator are refused in
addresses and names before anything else looks at them.

Speed: most real addresses are plain ``local@domain.tld`` in ASCII. :func:`normalize_email` answers those
with one strict regular expression and the same normalisation email-validator applies (lower-case
domain, lower-case RFC 2142 role mailboxes). A plain local part with any other domain (IDNA, Unicode)
takes email-validator's verdict on the domain from a per-domain cache (domains repeat: gmail.com...).
Everything else goes to email-validator whole.
``tests/test_subscribers_validate.py`` checks that both paths agree on the corpus vectors and on a
large set of generated near-misses.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from email_validator import SPECIAL_USE_DOMAIN_NAMES, EmailNotValidError, validate_email
from email_validator.rfc_constants import (
    CASE_INSENSITIVE_MAILBOX_NAMES,
    DOMAIN_MAX_LENGTH,
    EMAIL_MAX_LENGTH,
    LOCAL_PART_MAX_LENGTH,
)

from digest.errors import SubscriberError
from digest.models import STATUSES, iso
from digest.store.base import dumps

POLICY = "conservative"
MAX_NAME = 200
MAX_ATTRIBUTES = 10_000  # characters of JSON

# C0/C1 controls, DEL, and the Unicode line and paragraph separators: never in a header.
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
# The common case: an ASCII dot-atom local part of letters, digits and ._+- and a plain LDH domain
# whose last label is letters. Everything else (quotes, other atext, IDNA, "--", long parts) goes slow.
_FAST = re.compile(
    r"([A-Za-z0-9_+-]+(?:\.[A-Za-z0-9_+-]+)*)"
    r"@((?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63})"
)
# For the cached path: a plain local part, then a domain with none of the characters that would make
# the library split or parse the address differently (display names, quotes, literals, comments, a 2nd @).
_PLAIN_LOCAL_AT = re.compile(r"([A-Za-z0-9_+-]+(?:\.[A-Za-z0-9_+-]+)*)@")
_NOT_DOMAIN = re.compile(r"[\x00-\x2c/:-@\[-`{-\x7f\s]")
DOMAIN_CACHE = 65_536
_SPECIAL = tuple(SPECIAL_USE_DOMAIN_NAMES)
_SPECIAL_SUFFIXES = tuple("." + d for d in _SPECIAL)
_ROLES = frozenset(CASE_INSENSITIVE_MAILBOX_NAMES)


def _fast(raw: str) -> str | None:
    """The normalised address if the fast path can decide it is valid, else None (ask the library)."""
    m = _FAST.fullmatch(raw)
    if m is None:
        return None
    local, domain = m.group(1), m.group(2).lower()
    if len(local) > LOCAL_PART_MAX_LENGTH or len(domain) > DOMAIN_MAX_LENGTH or len(raw) > EMAIL_MAX_LENGTH:
        return None
    if "--" in domain or domain in _SPECIAL or domain.endswith(_SPECIAL_SUFFIXES):
        return None
    if local.lower() in _ROLES:
        local = local.lower()
    return f"{local}@{domain}"


@lru_cache(maxsize=DOMAIN_CACHE)
def _domain(domain: str) -> tuple[str, str] | None:
    """(normalised domain, IDNA ASCII domain) as email-validator sees it, or None when it is not valid.

    Asked with a one-letter local part: the library checks the domain on its own, so the answer holds
    for every plain local part (lengths are checked again by the caller).
    """
    try:
        got = validate_email("a@" + domain, check_deliverability=False, strict=True, allow_smtputf8=False)
    except EmailNotValidError:
        return None
    return got.domain, got.ascii_domain


def _cached(raw: str) -> str | None:
    """Plain local part, any domain: the domain's verdict comes from a per-domain cache of email-validator."""
    m = _PLAIN_LOCAL_AT.match(raw)
    if m is None:
        return None
    local, domain = m.group(1), raw[m.end() :]
    if len(local) > LOCAL_PART_MAX_LENGTH or _NOT_DOMAIN.search(domain):
        return None
    found = _domain(domain)
    if found is None:
        return None
    domain_norm, ascii_domain = found
    if local.lower() in _ROLES:
        local = local.lower()
    normalized = f"{local}@{domain_norm}"
    for form in (raw, normalized, f"{local}@{ascii_domain}"):
        if len(form.encode("utf-8")) > EMAIL_MAX_LENGTH:
            return None
    return normalized


def normalize_email(raw: str, *, check_deliverability: bool = False) -> str:
    """The normalised address, or :class:`SubscriberError` saying why it is not one.

    ``check_deliverability`` also asks DNS whether the domain takes mail (MX, or A/AAAA without a null
    MX), once per domain per process.
    """
    if _UNSAFE.search(raw):
        raise SubscriberError(f"{raw!r} contains a control character or line break; addresses cannot")
    address = _fast(raw) or _cached(raw)
    if address is None:
        if not raw:
            raise SubscriberError("the address is empty")
        if raw != raw.strip():
            raise SubscriberError(f"{raw!r} starts or ends with a space; remove it")
        try:
            address = validate_email(raw, check_deliverability=False, strict=True, allow_smtputf8=False).normalized
        except EmailNotValidError as exc:
            raise SubscriberError(f"{raw!r} is not a valid address: {exc}") from None
    if check_deliverability:
        reason = _undeliverable(address.rpartition("@")[2])
        if reason:
            raise SubscriberError(f"{raw!r} cannot receive mail: {reason}")
    return address


@lru_cache(maxsize=DOMAIN_CACHE)
def _undeliverable(domain: str) -> str | None:
    """Why DNS says the domain takes no mail, or None when it does (email-validator asks; cached)."""
    try:
        validate_email("postmaster@" + domain, check_deliverability=True, strict=True, allow_smtputf8=False)
    except EmailNotValidError as exc:
        return str(exc)
    return None


def slow_normalize_email(raw: str) -> str:
    """email-validator alone, same policy; the reference the fast path is tested against."""
    if _UNSAFE.search(raw):
        raise SubscriberError("control character")
    if not raw:
        raise SubscriberError("the address is empty")
    try:
        return validate_email(raw, check_deliverability=False, strict=True, allow_smtputf8=False).normalized
    except EmailNotValidError as exc:
        raise SubscriberError(str(exc)) from None


def clean_name(raw: str) -> str:
    """A display name safe for a From/To header: trimmed, no control characters, bounded."""
    name = raw.strip()
    if _UNSAFE.search(name):
        raise SubscriberError(f"the name {name!r} contains a control character or line break; remove it")
    if len(name) > MAX_NAME:
        raise SubscriberError(f"the name is {len(name)} characters long; keep it under {MAX_NAME}")
    return name


def parse_attributes(raw: str | None) -> dict[str, Any]:
    """A JSON object (``{"city": "Oslo"}``); empty means none."""
    if raw is None or not raw.strip():
        return {}
    if len(raw) > MAX_ATTRIBUTES:
        raise SubscriberError(f"attributes are {len(raw)} characters of JSON; keep them under {MAX_ATTRIBUTES}")
    try:
        value = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise SubscriberError(
            f'attributes are not JSON ({exc.msg} at column {exc.colno}); write a JSON object like {{"city": "Oslo"}}'
        ) from None
    if not isinstance(value, dict):
        raise SubscriberError('attributes must be a JSON object like {"city": "Oslo"}')
    return value


# A status column's words: ours, plus listmonk's subscriber statuses.
STATUS_WORDS: dict[str, str | None] = {
    **{s: s for s in STATUSES},
    "": None,
    "enabled": None,
    "active": None,
    "subscribed": None,
    "blocklisted": "unsubscribed",
    "blacklisted": "unsubscribed",
    "disabled": "unsubscribed",
    "unsubscribe": "unsubscribed",
}


# (normalised address, clean name, canonical attributes JSON or None, wanted status or None,
#  sign-up time (ISO) or None, warnings about the record), or the reason it is refused
Checked = tuple[str, str, str | None, str | None, str | None, tuple[str, ...]] | str


def fold_name(raw: str) -> tuple[str, str | None]:
    """A name with line breaks or control characters folded to single spaces, and the warning to give."""
    if not _UNSAFE.search(raw):
        return raw, None
    return " ".join(_UNSAFE.sub(" ", raw).split()), "the name had a line break or control character; folded to a space"


def check_timezone(value: str) -> str:
    """An IANA timezone name (``Europe/Paris``), as zoneinfo knows it; :class:`SubscriberError` otherwise."""
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise SubscriberError(f"unknown timezone {value!r}; use an IANA name such as Europe/Paris") from None
    return value


def parse_created(value: str) -> str:
    """A sign-up date as exports write it (ISO 8601, with or without a zone or ``T``), in the store's format."""
    text = value.strip().replace(" UTC", "").replace("Z", "+00:00")
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        raise SubscriberError(f"unreadable date {value!r}; write it as 2024-05-01 or 2024-05-01T09:30:00Z") from None
    return iso(when)


def check_row(
    email: str,
    name: str | None,
    attributes: str | None,
    status: str | None,
    check_deliverability: bool = False,
    *,
    topics: tuple[str, ...] = (),
    timezone: str | None = None,
    created: str | None = None,
    fold_names: bool = False,
) -> Checked:
    """Everything about one record that needs no store: pure, so it can run in a worker process.

    ``fold_names`` (files): a name with a line break is folded to one line with a warning, not refused.
    Topics and a timezone go into the attributes (``topics``, ``timezone``), where preferences read them;
    an unknown timezone or an unreadable date is left out with a warning, the person still lands.
    """
    notes: list[str] = []
    try:
        address = normalize_email(email, check_deliverability=check_deliverability)
        if name and fold_names:
            name, note = fold_name(name)
            if note:
                notes.append(note)
        clean = clean_name(name) if name else ""
        attrs: str | None = None
        if (attributes and attributes.strip()) or topics or timezone:
            values = parse_attributes(attributes)
            if topics:
                values["topics"] = list(topics)
            if timezone:
                try:
                    values["timezone"] = check_timezone(timezone)
                except SubscriberError as exc:
                    notes.append(f"{exc}; left out")
            attrs = dumps(values) if values else None
        wanted: str | None = None
        if status:
            word = status.strip().lower()
            if word not in STATUS_WORDS:
                raise SubscriberError(f"unknown status {status!r}; use one of {', '.join(STATUSES)}")
            wanted = STATUS_WORDS[word]
        since: str | None = None
        if created:
            try:
                since = parse_created(created)
            except SubscriberError as exc:
                notes.append(f"{exc}; the import's time kept")
    except SubscriberError as exc:
        return str(exc)
    return address, clean, attrs, wanted, since, tuple(notes)
