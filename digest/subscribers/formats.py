"""The export formats people bring their readers from, mapped onto digest's fields.

Each :class:`Format` says which header columns hold the address, the name (whole, or first and last),
attributes, a status, tags (which become topics), a timezone and the date the person signed up, and
how that source writes consent: a status word, a yes/no column (Substack's ``email_disabled``, Ghost's
``subscribed_to_emails``) or, for Mailchimp, which of its three files this is (the unsubscribed file has
``UNSUB_TIME``, the cleaned one ``CLEAN_TIME``). ``auto`` picks the format by the header; a header
with no email column is an error, never a guess. Every column a format does not use is reported once.

Adding a source is one more :class:`Format` in :data:`FORMATS`.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Mapping
from dataclasses import dataclass, field

from digest.errors import SubscriberError

# Status words shared by every format (ours and listmonk's), before a format's own words.
COMMON_STATUS: dict[str, str | None] = {
    "": None,
    "unconfirmed": "unconfirmed",
    "confirmed": "confirmed",
    "unsubscribed": "unsubscribed",
    "bounced": "bounced",
    "complained": "complained",
    "enabled": None,
    "active": None,
    "subscribed": None,
    "blocklisted": "unsubscribed",
    "blacklisted": "unsubscribed",
    "disabled": "unsubscribed",
    "unsubscribe": "unsubscribed",
}
TRUE = frozenset({"true", "t", "yes", "y", "1"})
FALSE = frozenset({"false", "f", "no", "n", "0"})


@dataclass(frozen=True)
class Format:
    name: str
    email: tuple[str, ...]
    signature: tuple[tuple[str, ...], ...] = ()  # auto picks this format when every column of one group is there
    name_column: tuple[str, ...] = ()
    first: tuple[str, ...] = ()
    last: tuple[str, ...] = ()
    attributes: tuple[str, ...] = ()
    status: tuple[str, ...] = ()
    statuses: Mapping[str, str | None] = field(default_factory=dict)
    tags: tuple[str, ...] = ()
    timezone: tuple[str, ...] = ()
    created: tuple[str, ...] = ()
    # (column, the status a true value means, the status a false value means)
    flags: tuple[tuple[str, str | None, str | None], ...] = ()
    # (column, status): the file holds people of that status when it has this column (Mailchimp's files)
    file_status: tuple[tuple[str, str], ...] = ()
    foreign: bool = True  # people another tool marks as gone are suppressed everywhere, not only on the list

    def word(self, value: str) -> str | None:
        """Our status for this format's status word; :class:`SubscriberError` for a word it does not know."""
        word = value.strip().lower()
        if word in self.statuses:
            return self.statuses[word]
        if word in COMMON_STATUS:
            return COMMON_STATUS[word]
        known = sorted({*self.statuses, *(w for w in COMMON_STATUS if w)})
        raise SubscriberError(f"unknown status {value!r} for a {self.name} file; expected one of {', '.join(known)}")


DIGEST = Format(
    "digest",
    email=("email", "e-mail", "email_address", "emailaddress", "address"),
    name_column=("name", "full_name", "display_name"),
    first=("first_name", "firstname"),
    last=("last_name", "lastname"),
    attributes=("attributes", "attribs", "attrs"),
    status=("status", "subscription_status"),
    tags=("topics", "tags"),
    timezone=("timezone", "time_zone", "tz"),
    created=("created_at", "subscribed_at"),
    foreign=False,
)
MAILCHIMP = Format(
    "mailchimp",
    email=("email_address", "email"),
    signature=(
        ("email_address", "member_rating"),
        ("email_address", "optin_time"),
        ("email_address", "leid"),
        ("email_address", "unsub_time"),  # a trimmed unsubscribed file must still read as one
        ("email_address", "clean_time"),
    ),
    first=("first_name", "fname"),
    last=("last_name", "lname"),
    tags=("tags",),
    timezone=("timezone",),
    created=("confirm_time", "optin_time"),
    # the subscribed file holds people who opted in (Mailchimp confirmed them): confirmed, even on a double opt-in list
    file_status=(("clean_time", "bounced"), ("unsub_time", "unsubscribed"), ("email_address", "confirmed")),
)
SUBSTACK = Format(
    "substack",
    email=("email",),
    signature=(("email", "active_subscription", "email_disabled"), ("email", "active_subscription", "plan")),
    name_column=("name",),
    created=("created_at",),
    flags=(("email_disabled", "unsubscribed", None),),
)
LISTMONK = Format(
    "listmonk",
    email=("email",),
    signature=(("uuid", "email", "attributes", "status"),),
    name_column=("name",),
    attributes=("attributes",),
    status=("status",),
    created=("created_at",),
)
BUTTONDOWN = Format(
    "buttondown",
    email=("email", "email_address"),
    signature=(("subscriber_type",), ("creation_date", "referrer_url")),
    attributes=("metadata",),
    status=("subscriber_type", "type"),
    statuses={
        "regular": "confirmed",
        "premium": "confirmed",
        "gifted": "confirmed",
        "trialed": "confirmed",
        "churning": "confirmed",
        "past_due": "confirmed",
        "unpaid": "confirmed",
        "unactivated": "unconfirmed",
        "removed": "unsubscribed",
        "undeliverable": "bounced",
        "spammy": "complained",
    },
    tags=("tags",),
    created=("creation_date", "created_at"),
)
GHOST = Format(
    "ghost",
    email=("email",),
    signature=(("email", "subscribed_to_emails"), ("email", "labels", "complimentary_plan")),
    name_column=("name",),
    tags=("labels",),
    created=("created_at",),
    flags=(("subscribed_to_emails", None, "unsubscribed"), ("subscribed", None, "unsubscribed")),
)
FORMATS: dict[str, Format] = {f.name: f for f in (DIGEST, MAILCHIMP, SUBSTACK, LISTMONK, BUTTONDOWN, GHOST)}
KINDS = ("auto", *FORMATS)


def normalise(column: str) -> str:
    return column.strip().lower().replace(" ", "_")


def detect(header: list[str]) -> Format:
    """The format whose signature the header carries; digest's own (the plainest) when none does."""
    norm = set(map(normalise, header))
    for fmt in FORMATS.values():
        if any(all(col in norm for col in group) for group in fmt.signature):
            return fmt
    return DIGEST


def choose(kind: str, header: list[str]) -> Format:
    if kind == "auto":
        return detect(header)
    try:
        return FORMATS[kind]
    except KeyError:
        raise SubscriberError(f"unknown import format {kind!r}; use one of {', '.join(KINDS)}") from None


def truth(value: str) -> bool | None:
    word = value.strip().lower()
    if word in TRUE:
        return True
    if word in FALSE:
        return False
    return None


def split_tags(value: str) -> tuple[str, ...]:
    """Tags as each source writes them: Mailchimp's ``"a","b"``, a JSON list, or a comma/semicolon list."""
    text = value.strip()
    if not text:
        return ()
    parts: list[str]
    if text.startswith("["):
        try:
            loaded = json.loads(text)
        except json.JSONDecodeError:
            loaded = None
        parts = [str(t) for t in loaded] if isinstance(loaded, list) else [text.strip("[]")]
    elif text.startswith('"'):
        parts = next(csv.reader([text], skipinitialspace=True), [])
    else:
        parts = text.replace(";", ",").split(",")
    seen: dict[str, None] = {}
    for part in parts:
        tag = " ".join(part.split())
        if tag:
            seen.setdefault(tag, None)
    return tuple(seen)
