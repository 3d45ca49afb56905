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
from collections.abc import Mapping

from digest import clock
from digest.errors import SubscriberError
from digest.models import STATUSES, MailingList, Subscriber, iso
from digest.store import Store

ACTIVE = ("unconfirmed", "confirmed")  # still on the list (receiving, or waiting to)
LEFT = ("unsubscribed", "bounced", "complained")

__all__ = [
    "ACTIVE",
    "LEFT",
    "STATUSES",
    "apply_batch",
    "check_status",
    "confirm",
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
