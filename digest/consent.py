"""Consent: who receives an edition, and every change of a subscription's status.

This is the one place the rules live; the CLI, an import or sync, the web pages and provider webhooks
all change a status through it, and sending asks it who receives.

* **Who receives**: confirmed subscribers; on a single opt-in list, unconfirmed ones too (nobody is
  waiting for a click there). On a double opt-in list an unconfirmed person gets nothing until they
  confirm, and counts as *pending*, never as a receiver, wherever a count is shown.
* **Nobody who left comes back without their own consent**: unsubscribed, bounced, complained, erased
  or suppressed people are subscribed again only by their own click (a confirmation link) or an
  editor's ``--force-resubscribe`` saying they gave it.
* **Anyone may always move out**: a file, a link, a webhook, the CLI. Leaving applies only to active
  subscriptions (so a bounce never turns into an unsubscribe and back).
* **Suppressions** hold a one-way hash of an address that left everywhere (a global unsubscribe, a
  bounce, a spam report); **erasure** deletes the person and keeps only that kind of hash.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from digest import clock
from digest.errors import SubscriberError
from digest.models import STATUSES, Choice, MailingList, Subscriber, iso, parse_iso
from digest.store import Store
from digest.store.base import dumps

ACTIVE = ("unconfirmed", "confirmed")  # still on the list (receiving, or waiting to)
LEFT = ("unsubscribed", "bounced", "complained")

__all__ = [
    "ACTIVE",
    "LEFT",
    "STATUSES",
    "SignUp",
    "apply_batch",
    "check_status",
    "choice",
    "confirm",
    "confirm_by_click",
    "decide",
    "default_status",
    "email_hash",
    "erase",
    "leave",
    "leave_address",
    "leave_by_link",
    "pending",
    "receivers",
    "receives",
    "receiving",
    "record",
    "weekly_day",
    "set_preferences",
    "sign_up",
    "suppress",
]


# -- who receives -------------------------------------------------------------------------------------------
def receiving(lst: MailingList) -> tuple[str, ...]:
    """The statuses that get this list's editions."""
    return ("confirmed",) if lst.double_opt_in else ("confirmed", "unconfirmed")


def receives(lst: MailingList, status: str | None) -> bool:
    return status in receiving(lst)


def receivers(lst: MailingList, counts: Mapping[str, int]) -> int:
    """How many get the next edition, from the list's count per status (``Store.status_counts``)."""
    return sum(counts.get(s, 0) for s in receiving(lst))


def pending(lst: MailingList, counts: Mapping[str, int]) -> int:
    """How many wait for their confirmation click (only double opt-in lists have any)."""
    return counts.get("unconfirmed", 0) if lst.double_opt_in else 0


def default_status(lst: MailingList) -> str:
    """A new subscription's status: unconfirmed until the click on a double opt-in list."""
    return "unconfirmed" if lst.double_opt_in else "confirmed"


def check_status(status: str) -> str:
    if status not in STATUSES:
        raise SubscriberError(f"unknown status '{status}'; use one of {', '.join(STATUSES)}")
    return status


def decide(current: str | None, wanted: str, *, force: bool) -> str:
    """The subscription's status after an editor (file, CLI) asks for ``wanted``; :class:`SubscriberError` if refused.

    A file may move someone out, and may confirm an unconfirmed subscription, but never downgrades a
    confirmed one nor brings back someone who left (``force`` says they gave new consent).
    """
    if current is None:
        return wanted
    if current in LEFT:
        if wanted in LEFT:
            return current
        if force:
            return wanted
        raise SubscriberError(f"{current} on this list; not re-subscribed without new consent (--force-resubscribe)")
    if wanted in LEFT or (current == "unconfirmed" and wanted == "confirmed"):
        return wanted
    return current


def email_hash(email: str) -> str:
    """The one-way hash a suppression or an erasure keeps (of the trimmed, lower-cased address)."""
    return hashlib.sha256(email.strip().lower().encode("utf-8")).hexdigest()


# -- status changes -----------------------------------------------------------------------------------------
def _check_leaving(status: str) -> None:
    if status not in LEFT:
        raise SubscriberError(f"'{status}' is not a way of leaving; use one of {', '.join(LEFT)}")


def leave(store: Store, person: Subscriber, lists: list[MailingList], status: str = "unsubscribed") -> list[str]:
    """Move the person out of these lists (the CLI, the preferences page); the names of those they left."""
    _check_leaving(status)
    left = []
    with store.transaction(immediate=True):
        for lst in lists:
            if store.change_subscription(person.id, lst.id, status, only_from=ACTIVE):
                left.append(lst.name)
    return left


def leave_by_link(store: Store, subscriber_id: int, lst: MailingList, *, via: str) -> bool:
    """A signed unsubscribe link (page or RFC 8058 one-click) was used; True when it moved them out.

    The event is counted against the latest edition of the list they were sent: the one whose link
    they most likely used, so ``digest stats`` shows it.
    """
    with store.transaction(immediate=True):
        moved = store.change_subscription(subscriber_id, lst.id, "unsubscribed", only_from=ACTIVE)
        if moved:
            store.record_event(
                f"unsubscribe:{subscriber_id}:{lst.id}:{iso(clock.now())}",
                "unsubscribe",
                email=None,
                edition_id=store.latest_edition_sent_to(subscriber_id, lst.id),
                subscriber_id=subscriber_id,
                occurred_at=None,
                data={"via": via, "list": lst.name},
            )
    return moved


def leave_address(store: Store, email: str, status: str, list_id: int | None = None) -> int:
    """A provider says this address left one list (``list_id``) or everything; how many subscriptions moved.

    Leaving everything is also kept as a suppression, so no list (not even one they were never on)
    takes the address back without new consent. Call inside the caller's transaction.
    """
    _check_leaving(status)
    if list_id is None:
        suppress(store, email, status)
    return store.change_subscriptions_of(email, status, only_from=ACTIVE, list_id=list_id)


def suppress(store: Store, email: str, status: str) -> None:
    """Keep the address from every list (bounced, complained or unsubscribed everywhere, or gone in the tool
    an import came from) until the person's own consent. Call inside the caller's transaction."""
    _check_leaving(status)
    store.suppress(email_hash(email), status)


def apply_batch(
    store: Store,
    list_id: int,
    new: list[tuple[int, str]],
    changed: list[tuple[int, str]],
    *,
    forgiven: list[str],
    unsuppressed: list[str],
    now: str,
) -> None:
    """An import batch's status changes, each already decided by :func:`decide` (``(subscriber_id, status)``):
    new and changed subscriptions, and the erasures and suppressions that new consent (``force``) lifts.
    Batched (``executemany``): this is the import's fast path. Call inside the caller's transaction."""
    if forgiven:
        store.forget_erasures(forgiven)
    if unsuppressed:
        store.forget_suppressions(unsuppressed)
    store.insert_subscriptions(list_id, new, now)
    store.update_subscriptions(list_id, changed, now)


def confirm(store: Store, subscriber_id: int, list_id: int) -> bool:
    """Double opt-in: the person's own click confirms an unconfirmed subscription; False when it was not."""
    with store.transaction(immediate=True):
        return store.change_subscription(subscriber_id, list_id, "confirmed", only_from=("unconfirmed",))


def erase(store: Store, person: Subscriber) -> None:
    """Right to erasure: delete the person everywhere in the store, keeping only the one-way hash."""
    store.erase_subscriber(person.id, person.email, email_hash(person.email))


# -- the reader's own hand: signup, their confirmation click, their preferences ---------------------------------
def record(store: Store, event: str, subscriber_id: int, lst: MailingList, *, via: str, **data: Any) -> None:
    """Keep one change a reader (or a mail to them) made: what, when (``received_at``), how (``via``), which list."""
    now = iso(clock.now())
    store.record_event(
        f"{event}:{subscriber_id}:{lst.id}:{now}:{sorted(data.items())!r}",
        event,
        email=None,
        edition_id=None,
        subscriber_id=subscriber_id,
        occurred_at=now,
        data={"via": via, "list": lst.name, "list_id": lst.id, **data},
    )


@dataclass(frozen=True)
class SignUp:
    """What a signup did: the person (None when nothing may be kept, e.g. an erased address), their status on
    the list afterwards, and whether they need a confirmation mail (their click is what subscribes them)."""

    subscriber_id: int | None
    status: str | None
    needs_confirmation: bool


def sign_up(
    store: Store, email: str, lst: MailingList, *, name: str = "", attributes: dict[str, Any] | None = None, via: str
) -> SignUp:
    """Someone asks to join ``lst`` with ``email`` (normalised): nobody's standing improves without their click.

    A new address is added as :func:`default_status` says (on a double opt-in list, unconfirmed: a mail asks
    for the click). Someone who left (or whose address is suppressed) keeps their status and gets a
    confirmation mail; only its link brings them back. An address erased at its owner's request is not
    stored again. Name and attributes are kept only for a person new to the store: a stranger typing an
    address never changes the owner's details.
    """
    hashed = email_hash(email)
    with store.transaction(immediate=True):
        person = store.find_subscriber(email)
        if person is None:
            if store.is_erased(hashed):
                return SignUp(None, None, False)
            suppressed = bool(store.suppressed_among([hashed]))
            sid = store.next_subscriber_id()
            now = iso(clock.now())
            store.insert_subscribers([(sid, email, name, dumps(attributes or {}), now)])
            new = "unsubscribed" if suppressed else default_status(lst)
            store.insert_subscriptions(lst.id, [(sid, new)], now)
            record(store, "signup", sid, lst, via=via, status=new)
            return SignUp(sid, new, new != "confirmed")
        status = store.subscription(person.id, lst.id)
        if status is None:
            status = "unsubscribed" if store.suppressed_among([hashed]) else default_status(lst)
            store.insert_subscriptions(lst.id, [(person.id, status)], iso(clock.now()))
            record(store, "signup", person.id, lst, via=via, status=status)
        return SignUp(person.id, status, status != "confirmed")


def confirm_by_click(
    store: Store, subscriber_id: int, lst: MailingList, *, issued: datetime | None, via: str = "page"
) -> bool:
    """The person's own click on a confirmation link: confirms them, and brings back someone who left.

    A link sent before they left never brings them back (they left after asking): only a link issued
    after their last status change does. Links without an issue time (printed by older versions) only
    confirm an unconfirmed subscription. True when they are confirmed now and were not before.
    """
    with store.transaction(immediate=True):
        status = store.subscription(subscriber_id, lst.id)
        if status == "unconfirmed":
            moved = store.change_subscription(subscriber_id, lst.id, "confirmed", only_from=("unconfirmed",))
        elif status in LEFT and issued is not None:
            changed = parse_iso(store.subscription_changed_at(subscriber_id, lst.id))
            if changed is not None and issued < changed:
                return False
            moved = store.change_subscription(subscriber_id, lst.id, "confirmed", only_from=LEFT)
            person = store.subscriber_by_id(subscriber_id)
            if moved and person is not None:
                store.forget_suppressions([email_hash(person.email)])  # their click is the new consent
        else:
            return False
        if moved:
            record(store, "confirm", subscriber_id, lst, via=via, was=status)
        return moved


WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
WEEKLY_DEFAULT = "monday"  # weekly readers of a daily list get the week's best on Mondays


def choice(topics: object, frequency: object) -> Choice:
    """A reader's :class:`Choice` from their attributes' ``topics`` and ``frequency`` (a list, its JSON text as
    SQLite's ``json_extract`` gives it, or anything an import left there: what is not a list of names is no
    choice, and any frequency but weekly is daily)."""
    if isinstance(topics, str):
        try:
            topics = json.loads(topics)
        except ValueError:
            topics = [topics]
    names = sorted({t.strip() for t in topics if isinstance(t, str) and t.strip()}) if isinstance(topics, list) else []
    return Choice(tuple(names), "weekly" if frequency == "weekly" else "daily")


def weekly_day(lst: MailingList) -> str:
    """The weekday on which the list's weekly readers get the week's best: the list's own weekday, else Monday."""
    return lst.weekday if lst.weekday in WEEKDAYS else WEEKLY_DEFAULT


PREFERENCES = ("name", "topics", "frequency", "paused_until")
FREQUENCIES = ("daily", "weekly")
MAX_PAUSE_WEEKS = 8


def set_preferences(
    store: Store,
    person: Subscriber,
    lst: MailingList,
    *,
    name: str | None = None,
    topics: list[str] | None = None,
    frequency: str | None = None,
    pause_weeks: int | None = None,
    timezone: str | None = None,
    via: str = "preferences",
) -> list[str]:
    """The reader's own choices from their preferences page; the names of what changed (recorded, with when).

    Topics must be among the list's (:func:`digest.newsletter` passes them checked); a pause of 1 to 8
    weeks holds every edition of this list until it ends (0 ends it now); ``timezone`` (IANA, ``""``: the
    list's) is when their morning is for a list with a send time. All apply from the next edition.
    """
    attributes = dict(person.attributes)
    changed: list[str] = []
    new_name = person.name if name is None else name
    if new_name != person.name:
        changed.append("name")
    if topics is not None and sorted(topics) != sorted(attributes.get("topics") or []):
        attributes["topics"] = sorted(dict.fromkeys(topics))
        changed.append("topics")
    if frequency is not None:
        if frequency not in FREQUENCIES:
            raise SubscriberError(f"'{frequency}' is not a frequency; use {' or '.join(FREQUENCIES)}")
        if frequency != attributes.get("frequency", "daily"):
            attributes["frequency"] = frequency
            changed.append("frequency")
    if timezone is not None and timezone != attributes.get("timezone", ""):
        if timezone:
            try:
                ZoneInfo(timezone)
            except (ZoneInfoNotFoundError, ValueError):
                raise SubscriberError(f"'{timezone}' is not a timezone; choose one from the list") from None
            attributes["timezone"] = timezone
        else:
            attributes.pop("timezone", None)
        changed.append("timezone")
    paused_until: str | None = None
    if pause_weeks is not None:
        if not 0 <= pause_weeks <= MAX_PAUSE_WEEKS:
            raise SubscriberError(f"a pause lasts 1 to {MAX_PAUSE_WEEKS} weeks (0 ends it)")
        paused_until = (clock.now() + timedelta(weeks=pause_weeks)).date().isoformat() if pause_weeks else ""
    with store.transaction(immediate=True):
        if {"name", "topics", "frequency", "timezone"} & set(changed):
            store.set_subscriber(person.id, name=new_name, attributes=attributes)
        if paused_until is not None and paused_until != (store.paused_until(person.id, lst.id) or ""):
            store.set_paused_until(person.id, lst.id, paused_until or None)
            changed.append("paused_until")
        if changed:
            record(
                store,
                "preferences",
                person.id,
                lst,
                via=via,
                changed=changed,
                topics=attributes.get("topics") or [],
                frequency=attributes.get("frequency", "daily"),
                timezone=attributes.get("timezone", ""),
                paused_until=paused_until,
            )
    return changed
