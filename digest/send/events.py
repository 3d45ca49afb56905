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

from digest.consent import email_hash, leave_address
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


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _when(value: Any) -> str | None:
    stamp = _int(value)
    return datetime.fromtimestamp(stamp, UTC).isoformat().replace("+00:00", "Z") if stamp is not None else None


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


def record_events(store: Store, events: list[Any]) -> dict[str, int]:
    """Store a webhook's batch of events in one transaction; returns counts."""
    summary = {"received": len(events), "recorded": 0, "duplicates": 0, "ignored": 0, "status_changes": 0}
    with store.transaction(immediate=True):
        for event in events:
            if not isinstance(event, dict) or event.get("event") not in TRACKED:
                summary["ignored"] += 1
                continue
            email = str(event.get("email") or "").strip() or None
            edition_id = _int(event.get("edition_id"))
            subscriber_id = _int(event.get("subscriber_id"))
            erased = email is not None and store.is_erased(email_hash(email))
            new = store.record_event(
                dedupe_key(event),
                event["event"],
                email=None if erased else email,
                edition_id=edition_id,
                subscriber_id=subscriber_id,
                occurred_at=_when(event.get("timestamp")),
                data={} if erased else event,
            )
            if not new:
                summary["duplicates"] += 1
                continue
            summary["recorded"] += 1
            change = status_for(event)
            if change is None or email is None:
                continue
            status, one_list = change
            list_id = _int(event.get("list_id")) or (store.edition_list_id(edition_id) if edition_id else None)
            if one_list and list_id is None:
                continue  # a group unsubscribe we cannot place: leave the subscriptions alone
            summary["status_changes"] += leave_address(store, email, status, list_id if one_list else None)
    return summary


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
