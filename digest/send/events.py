"""Delivery events (SendGrid's Event Webhook) and suppressions into the ledger and subscription statuses.

Each event is stored once (keyed by ``sg_event_id``, else a hash of the event), against the send
row named by its ``custom_args`` (``edition_id``, ``subscriber_id``). Bounces, spam reports and
unsubscribes change the subscription status at once, so the next send skips the address. A global
one (a bounce, a spam report, an unsubscribe from everything) is also kept as a suppression of the
address (a one-way hash), so no list takes it back without ``--force-resubscribe``, even one the
person was never on. An event about an erased address is kept without the address or its payload.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any

import idna

from digest import clock
from digest.consent import email_hash, leave_address
from digest.send.providers.address import normalised_address
from digest.store import Store

TRACKED = (
    "processed",
    "delivered",
    "deferred",
    "bounce",
    "dropped",
    "spamreport",
    "unsubscribe",
    "group_unsubscribe",
    "group_resubscribe",
    "open",
    "click",
)
DROP_REASONS = {
    "bounced address": "bounced",
    "unsubscribed address": "unsubscribed",
    "spam reporting address": "complained",
}
SUPPRESSIONS = (("unsubscribes", "unsubscribed"), ("bounces", "bounced"), ("spam_reports", "complained"))


SQLITE_MAX = 2**63 - 1
TIME_MAX = 253402300799  # 9999-12-31T23:59:59Z


def _int(value: Any) -> int | None:
    """An id or a time from an event: an integer SQLite can hold, else None (a bad value is no value)."""
    if isinstance(value, bool):
        return None
    try:
        number = int(value)
    except (TypeError, ValueError, OverflowError):
        return None
    return number if 0 <= number <= SQLITE_MAX else None


def _when(value: Any) -> str | None:
    stamp = _int(value)
    if stamp is None or stamp > TIME_MAX:
        return None
    return datetime.fromtimestamp(stamp, UTC).isoformat().replace("+00:00", "Z")


def stored_form(email: str) -> str:
    """An address as the store keeps it (email-validator's form: the domain in Unicode, lower-case), from any
    spelling a provider reports (IDNA ``xn--`` labels, capitals)."""
    local, at, domain = email.strip().rpartition("@")
    if not at:
        return email.strip()
    try:
        domain = idna.decode(domain, uts46=True)
    except (idna.IDNAError, UnicodeError):
        domain = domain.casefold()
    return f"{local}@{domain}"


def _subscriber(store: Store, subscriber_id: int | None, email: str | None) -> tuple[int | None, str | None]:
    """(subscriber id, stored address) an event is about: the id it carries in ``custom_args`` when the store
    knows it, else its address however it is spelled (IDNA or Unicode domain, any case)."""
    if subscriber_id is not None:
        found = store.subscriber_by_id(subscriber_id)
        if found is not None:
            return found.id, found.email
    if email:
        for spelling in dict.fromkeys((email, stored_form(email), normalised_address(email))):
            person = store.find_subscriber(spelling)
            if person is not None:
                return person.id, person.email
        return None, stored_form(email)
    return None, None


def dedupe_key(event: dict[str, Any]) -> str:
    found = event.get("sg_event_id")
    if isinstance(found, str) and found:
        return f"sendgrid:{found}"
    canonical = json.dumps(event, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return "sendgrid-sha256:" + hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def status_for(event: dict[str, Any]) -> tuple[str, bool] | None:
    """(subscription status, only on the edition's list?) an event leads to, if any."""
    kind = event.get("event")
    if kind == "bounce":
        return None if event.get("type") == "blocked" else ("bounced", False)  # a block is temporary
    if kind == "spamreport":
        return ("complained", False)
    if kind == "unsubscribe":
        return ("unsubscribed", False)
    if kind == "group_unsubscribe":
        return ("unsubscribed", True)
    if kind == "dropped":
        reason = str(event.get("reason", "")).strip().lower()
        found = DROP_REASONS.get(reason)
        return (found, False) if found else None
    return None


def record_events(store: Store, events: list[Any], *, max_age_s: float | None = None) -> dict[str, int]:
    """Store a webhook's batch of events; returns counts.

    Each event is matched to its reader by the ``subscriber_id`` and ``edition_id`` it carries, falling back to
    its address however it is spelled. Each is written on its own (a savepoint): a bad one is skipped and counted
    (``invalid``), never rolling back the others. One older than ``max_age_s`` (by its ``timestamp``) is refused
    and counted (``stale``): an old batch replayed changes nothing. An event about a reader whose send was
    *unknown* shows the provider accepted it: the send becomes ``sent``.
    """
    summary = dict.fromkeys(
        ("received", "recorded", "duplicates", "ignored", "invalid", "stale", "status_changes", "resolved"), 0
    )
    summary["received"] = len(events)
    oldest = clock.now().timestamp() - max_age_s if max_age_s else None
    with store.transaction(immediate=True):
        for event in events:
            if not isinstance(event, dict) or event.get("event") not in TRACKED:
                summary["ignored"] += 1
                continue
            stamp = _int(event.get("timestamp"))
            if oldest is not None and stamp is not None and stamp < oldest:
                summary["stale"] += 1
                continue
            store.conn.execute("SAVEPOINT event")
            try:
                outcome = _record_one(store, event)
            except Exception:  # noqa: BLE001 - one malformed event must not cost the batch its valid ones
                store.conn.execute("ROLLBACK TO event")
                outcome = {"invalid": 1}
            finally:
                store.conn.execute("RELEASE event")
            for key, n in outcome.items():
                summary[key] += n
    return summary


def _record_one(store: Store, event: dict[str, Any]) -> dict[str, int]:
    for key in ("edition_id", "subscriber_id", "list_id", "timestamp"):
        if event.get(key) not in (None, "") and _int(event[key]) is None:
            raise ValueError(f"{key} is not an id SQLite can hold: {event[key]!r}")
    if _when(event.get("timestamp")) is None and event.get("timestamp") not in (None, ""):
        raise ValueError(f"timestamp out of range: {event['timestamp']!r}")
    raw_email = event.get("email")
    email = raw_email.strip() if isinstance(raw_email, str) and raw_email.strip() else None
    edition_id = _int(event.get("edition_id"))
    subscriber_id, stored = _subscriber(store, _int(event.get("subscriber_id")), email)
    erased = stored is not None and store.is_erased(email_hash(stored))
    new = store.record_event(
        dedupe_key(event),
        event["event"],
        email=None if erased else stored,
        edition_id=edition_id,
        subscriber_id=subscriber_id,
        occurred_at=_when(event.get("timestamp")),
        data={} if erased else event,
    )
    if not new:
        return {"duplicates": 1}
    out = {"recorded": 1}
    if edition_id is not None and subscriber_id is not None and event.get("test") is None:
        out["resolved"] = store.resolve_unknown(edition_id, subscriber_id)
    change = status_for(event)
    if change is None or stored is None:
        return out
    status, one_list = change
    list_id = _int(event.get("list_id")) or (store.edition_list_id(edition_id) if edition_id else None)
    if one_list and list_id is None:
        return out  # a group unsubscribe we cannot place: leave the subscriptions alone
    out["status_changes"] = leave_address(store, stored, status, list_id if one_list else None)
    return out


def sync_suppressions(store: Store, provider: Any) -> dict[str, dict[str, int]]:
    """Pull SendGrid's global unsubscribes, bounces and spam reports (every page) into statuses."""
    report: dict[str, dict[str, int]] = {}
    for kind, status in SUPPRESSIONS:
        entries = provider.suppressions(kind)
        changed = 0
        with store.transaction(immediate=True):
            for entry in entries:
                email = str(entry.get("email") or "").strip() if isinstance(entry, dict) else ""
                if email:  # suppressed even when the address is not (yet) in the store
                    changed += leave_address(store, email, status)
        report[kind] = {"listed": len(entries), "changed": changed}
    return report
