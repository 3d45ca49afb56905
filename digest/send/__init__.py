"""Sending an edition exactly once per subscriber, through any provider.

The ledger (the ``sends`` and ``send_batches`` tables) is written before each batch leaves and
after it returns; a lock per edition keeps two processes from sending at once. Batches left in
flight by a crash are reported as unknown and re-sent only with ``retry_unknown``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from digest import tokens
from digest.config import Config
from digest.errors import LockedError
from digest.render import Rendered, render_edition
from digest.send.providers import EditionMail, Provider, Recipient, get_provider
from digest.store import Store


@dataclass
class SendReport:
    edition: int
    provider: str
    sent: int = 0
    skipped: int = 0
    failed: int = 0
    unknown: int = 0
    requests: int = 0
    dry_run: bool = False
    errors: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def unsubscribe_url(config: Config, key: bytes, subscriber_id: int, list_id: int) -> str:
    return f"{config.public_url}/unsubscribe/{tokens.sign(key, 'unsubscribe', subscriber_id, list_id)}"


def web_url(config: Config, edition_id: int) -> str:
    return f"{config.public_url}/editions/{edition_id}"


def web_values(config: Config, edition_id: int) -> dict[str, str]:
    """Placeholder values for a copy nobody in particular reads (web version, preview)."""
    return {"unsubscribe_url": f"{config.public_url}/unsubscribe", "web_url": web_url(config, edition_id),
            "name": "", "email": ""}


def edition_mail(config: Config, store: Store, edition_id: int, rendered: Rendered | None = None,
                 test: bool = False) -> EditionMail:
    edition = store.edition(edition_id)
    list_row = store.list_by_id(edition["list_id"])
    rendered = rendered or render_edition(config, store, edition_id)
    domain = list_row["from_email"].rpartition("@")[2] or "digest.local"
    return EditionMail(
        edition_id=edition_id, list_id=list_row["id"], list_name=list_row["name"], subject=edition["subject"],
        from_email=list_row["from_email"], from_name=list_row["from_name"], reply_to=list_row["reply_to"],
        list_id_header=f"{list_row['name']} <{list_row['name']}.{domain}>", rendered=rendered,
        categories=list(config.settings.sendgrid.categories), test=test,
    )


def recipient(config: Config, key: bytes, mail: EditionMail, subscriber_id: int, email: str,
              name: str) -> Recipient:
    return Recipient(subscriber_id, email, name, {
        "unsubscribe_url": unsubscribe_url(config, key, subscriber_id, mail.list_id),
        "web_url": web_url(config, mail.edition_id),
        "name": name or "",
        "email": email,
    })


def send_edition(
    store: Store, config: Config, edition_id: int, *, provider: str | Provider | None = None,
    dry_run: bool = False, retry_unknown: bool = False,
    progress: Callable[[int], None] | None = None,
) -> SendReport:
    """Send the edition to every subscriber of its list who has not had it yet."""
    chosen = provider or config.settings.send.provider
    impl = get_provider(chosen, config) if isinstance(chosen, str) else chosen
    report = SendReport(edition=edition_id, provider=impl.name, dry_run=dry_run)
    edition = store.edition(edition_id)
    list_row = store.list_by_id(edition["list_id"])
    key = tokens.signing_key(store, require_env=impl.name != "outbox" and not dry_run)
    lock = f"send:edition:{edition_id}"
    holder = store.acquire_lock(lock, owner=f"digest send edition {edition_id}")
    if holder is not None:
        raise LockedError(
            f"edition {edition_id} is being sent by another process (pid {holder['pid']} on {holder['host']},"
            f" since {holder['acquired_at']}); wait for it to finish and run again"
        )
    try:
        orphans = store.orphaned_batches(edition_id)
        if orphans:
            store.mark_unknown([b["id"] for b in orphans], "left in flight by a process that stopped")
        if retry_unknown:
            for batch in store.unknown_batches(edition_id):
                store.forget_batch(batch["id"])
        before = store.send_counts(edition_id)
        report.skipped = before["sent"] + before["failed"]
        mail = edition_mail(config, store, edition_id)
        for chunk in store.recipients(list_row["id"], edition_id, list_row["double_opt_in"], impl.batch_size):
            batch = [recipient(config, key, mail, sid, email, name) for sid, email, name, _ in chunk]
            if dry_run:
                report.sent += len(batch)
                continue
            batch_id = store.start_batch(edition_id, impl.name, [(r.subscriber_id, r.email) for r in batch])
            try:
                result = impl.send_batch(mail, batch)
            except BaseException:
                store.finish_batch(batch_id, "unknown", error="the send stopped with an error mid-batch")
                raise
            store.finish_batch(batch_id, result.status, message_id=result.message_id, error=result.error,
                               attempts=result.attempts)
            store.heartbeat_lock(lock)
            report.requests += result.attempts
            if result.status == "sent":
                report.sent += len(batch)
            elif result.status == "failed":
                report.failed += len(batch)
                report.errors.append(result.error or "failed")
            else:
                report.errors.append(result.error or "unknown")
            if progress:
                progress(len(batch))
        report.unknown = store.send_counts(edition_id)["unknown"]
    finally:
        store.release_lock(lock)
        impl.close()
    return report


def send_test(store: Store, config: Config, edition_id: int, email: str,
              provider: str | Provider | None = None) -> SendReport:
    """A test copy to one address, marked as a test, not recorded in the ledger."""
    chosen = provider or config.settings.send.provider
    impl = get_provider(chosen, config) if isinstance(chosen, str) else chosen
    key = tokens.signing_key(store)
    mail = edition_mail(config, store, edition_id, test=True)
    found = store.find_subscriber(email)
    r = recipient(config, key, mail, found["id"] if found else 0, email, found["name"] if found else "")
    try:
        result = impl.send_batch(mail, [r])
    finally:
        impl.close()
    report = SendReport(edition=edition_id, provider=impl.name, requests=result.attempts)
    if result.status == "sent":
        report.sent = 1
    else:
        report.failed = 1
        report.errors.append(result.error or result.status)
    return report

