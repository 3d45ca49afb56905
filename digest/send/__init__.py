"""Sending an edition exactly once per subscriber, through any provider.

The ledger (the ``sends`` and ``send_batches`` tables) is written before each batch leaves and
after it returns; a lock per edition keeps two processes from sending at once (a thread keeps its
heartbeat fresh; a live holder on this host is never taken over). Each run has its own id, written on
its batches and its lock: once a run holds the lock, any batch in flight from another run was left by
a run that stopped (whatever its pid: pids repeat) and becomes *unknown*. Up to the
provider's ``concurrency`` batches are in flight at once (worker threads call the provider; the
ledger is written by the calling thread only).

Who is owed the edition: subscribers with no send row yet, and those whose batch *failed*
(certainly not sent). A batch whose fate is *unknown* (a crash, ``kill -9``, a timeout, a 5xx)
is held back: ``retry_unknown`` first marks ``sent`` every unknown reader the provider's events
show it accepted (the same happens as events arrive), then re-sends the rest, each at most once
that way, so by default nobody can get the edition twice.
"""

from __future__ import annotations

import contextlib
import re
import secrets
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import asdict, dataclass, field
from datetime import date as date_type
from typing import Any, Protocol

from digest import consent, tokens, urls
from digest.config import Config, secret
from digest.errors import ConfigError, LockedError, NothingToSendError, ProviderError
from digest.models import Choice, Due, MailingList, Rendered
from digest.send.compliance import require_postal_address
from digest.send.providers import BatchResult, EditionMail, Provider, Recipient, UnknownOutcomeStop, get_provider
from digest.store import Store

_MAILTO = re.compile(r"[A-Za-z0-9.!#$%&'*+/=^_`{|}~-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")  # ASCII: goes in a URI


@dataclass
class SendReport:
    edition: int
    provider: str
    sent: int = 0
    skipped: int = 0  # already had it before this run
    paused: int = 0  # readers pausing the list on the edition's date: not sent, not failed, not owed
    waiting: int = 0  # readers of a list with a send time whose local send time has not come yet today
    failed: int = 0
    unknown: int = 0  # in the ledger as unknown at the end (this run's and earlier ones not retried)
    requests: int = 0
    retried: int = 0  # unknown recipients re-sent by retry_unknown (no provider event showed they had it)
    resolved: int = 0  # unknown recipients retry_unknown found accepted in the provider's events (not re-sent)
    dry_run: bool = False
    halted: bool = False  # asked to stop (SIGTERM, Ctrl-C): batches in flight finished, the rest not started
    errors: list[str] = field(default_factory=list)
    variants: int = 0  # variants of the edition (readers' topics, weekly) that went to someone this run
    weekly: int = 0  # weekly readers whose day it is not: not sent, not owed today
    empty: int = 0  # readers whose choice (topics, weekly) has no stories today: not sent, not owed today
    notes: list[str] = field(default_factory=list)  # which choices had nothing, and how many readers that left out

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def web_values(config: Config, edition_id: int) -> dict[str, str]:
    """Placeholder values for a copy nobody in particular reads (web version, preview)."""
    return {
        "unsubscribe_url": urls.unsubscribe_placeholder(config.public_url),
        "preferences_url": urls.unsubscribe_placeholder(config.public_url),  # says to use the mail's own links
        "web_url": urls.edition(config.public_url, edition_id),
        "name": "",
        "email": "",
    }


def edition_mail(store: Store, config: Config, edition_id: int, rendered: Rendered, test: bool = False) -> EditionMail:
    """What every reader's copy of the edition shares; ``rendered`` is the edition's artefact (the caller renders)."""
    edition = store.edition(edition_id)
    list_row = store.list_by_id(edition.list_id)
    domain = list_row.from_email.rpartition("@")[2] or "digest.local"
    mailto = config.settings.sender.unsubscribe_mailto.strip()
    if mailto and not _MAILTO.fullmatch(mailto):
        raise ConfigError(
            f"[sender] unsubscribe_mailto = {mailto!r} is not an email address: set it to one whose mail you act on"
            ' (e.g. unsubscribe@yourdomain), or to "" for none'
        )
    return EditionMail(
        edition_id=edition_id,
        list_id=list_row.id,
        list_name=list_row.name,
        from_email=list_row.from_email,
        from_name=list_row.from_name,
        reply_to=list_row.reply_to,
        list_id_header=f"{list_row.name} <{list_row.name}.{domain}>",
        rendered=rendered,
        categories=list(config.settings.sendgrid.categories),
        test=test,
        web_url=urls.edition(config.public_url, edition_id),
        unsubscribe_mailto=mailto,
        feedback_id=f"{edition_id}:{list_row.name}:digest:{domain}",
    )


def recipient(config: Config, key: bytes, mail: EditionMail, subscriber_id: int, email: str, name: str) -> Recipient:
    return Recipient(
        subscriber_id,
        email,
        name,
        {
            "unsubscribe_url": urls.unsubscribe(config.public_url, key, subscriber_id, mail.list_id),
            "preferences_url": urls.preferences(config.public_url, key, subscriber_id, mail.list_id),
            "web_url": mail.web_url or urls.edition(config.public_url, mail.edition_id),
            "name": name or "",
            "email": email,
        },
    )


class Variants(Protocol):
    """Where the send finds the variant of the edition for a reader's choice (the pipeline builds and renders them
    once; sending never renders): a variant id and its artefact, None for the whole edition."""

    def for_choice(self, choice: Choice) -> tuple[int | None, Rendered] | None:
        """The variant for readers of ``choice`` (built and rendered once), or None when it has no stories today."""
        ...

    def rendered(self, variant_id: int) -> Rendered:
        """The kept artefact of a variant a ledger row names (a retry sends what the first attempt sent)."""
        ...


Rows = list[tuple[int, str, str]]
_NOTHING = -1  # a choice whose variant has no stories today
_WAIT = -2  # a weekly choice on another day than the list's weekly one


class _Mails:
    """The EditionMail of the whole edition and of each variant, made once per send (what a batch shares)."""

    def __init__(
        self, store: Store, config: Config, edition_id: int, rendered: Rendered, variants: Variants | None
    ) -> None:
        self.store, self.config, self.edition_id, self.variants = store, config, edition_id, variants
        self.main = edition_mail(store, config, edition_id, rendered)
        self.by_variant: dict[int, EditionMail] = {}
        self.by_key: dict[str, int | None] = {"": None}

    def mail(self, variant_id: int | None) -> EditionMail:
        if variant_id is None or self.variants is None:
            return self.main
        if variant_id not in self.by_variant:
            rendered = self.variants.rendered(variant_id)
            self.by_variant[variant_id] = edition_mail(self.store, self.config, self.edition_id, rendered)
        return self.by_variant[variant_id]

    def target(self, choice: Choice) -> int | None:
        """The variant id for readers of ``choice`` (None: the whole edition; ``_NOTHING``: none today)."""
        key = choice.key
        if key not in self.by_key:
            found = self.variants.for_choice(choice) if self.variants is not None else (None, self.main.rendered)
            if found is None:
                self.by_key[key] = _NOTHING
            else:
                variant_id, rendered = found
                self.by_key[key] = variant_id
                if variant_id is not None:
                    self.by_variant[variant_id] = edition_mail(self.store, self.config, self.edition_id, rendered)
        return self.by_key[key]


def weekly_due(list_row: MailingList, day: str) -> bool:
    """Whether the edition dated ``day`` is the one the list's weekly readers get (the week's best)."""
    return date_type.fromisoformat(day).weekday() == consent.WEEKDAYS.index(consent.weekly_day(list_row))


def resolve_provider(config: Config, provider: str | Provider | None, dry_run: bool = False) -> Provider:
    chosen = provider or config.settings.send.provider
    return get_provider(chosen, config, dry_run=dry_run) if isinstance(chosen, str) else chosen


def send_lock_name(edition_id: int) -> str:
    return f"send:edition:{edition_id}"


def acquire_send_lock(store: Store, edition_id: int, wait_s: float, run_id: str) -> str:
    """Take the edition's send lock for the run ``run_id``, waiting up to ``wait_s`` seconds;
    :class:`LockedError` if still held."""
    name = send_lock_name(edition_id)
    deadline = time.monotonic() + max(wait_s, 0.0)
    while True:
        holder = store.acquire_lock(name, owner=f"digest send edition {edition_id}", run_id=run_id)
        if holder is None:
            return name
        left = deadline - time.monotonic()
        if left <= 0:
            waited = f" after waiting {wait_s:g}s" if wait_s > 0 else ""
            raise LockedError(
                f"edition {edition_id} is being sent by another process (pid {holder.pid} on {holder.host},"
                f" since {holder.acquired_at}){waited}; let it finish, or pass --wait SECONDS to wait for it"
            )
        time.sleep(min(0.2, left))


class _Heartbeat:
    """Keeps the send lock's heartbeat fresh from a thread of its own (with its own store connection), so that
    a slow batch never makes a live sender look stale to a process on another host."""

    def __init__(self, store: Store, lock: str, run_id: str, interval: float = 10.0) -> None:
        self.path, self.lock, self.run_id, self.interval = store.path, lock, run_id, interval
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._beat, name=f"heartbeat-{lock}", daemon=True)

    def __enter__(self) -> _Heartbeat:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopped.set()
        self.thread.join(timeout=10)

    def _beat(self) -> None:
        own: Store | None = None
        try:
            while not self.stopped.wait(self.interval):
                try:
                    own = own or Store(self.path, create=False)
                    own.heartbeat_lock(self.lock, self.run_id)
                except Exception:  # noqa: BLE001 - a busy store: the next beat tries again
                    continue
        finally:
            if own is not None:
                with contextlib.suppress(Exception):
                    own.close()


class _Run:
    """One send of one edition: feeds batches to the provider's threads and writes the ledger."""

    def __init__(
        self,
        store: Store,
        config: Config,
        impl: Provider,
        mail: EditionMail,
        key: bytes,
        report: SendReport,
        progress: Callable[[int], None] | None,
        halt: threading.Event | None = None,
    ) -> None:
        self.store, self.config, self.impl, self.mail, self.key = store, config, impl, mail, key
        self.report, self.progress = report, progress
        self.halt = halt or threading.Event()
        self.pending: dict[Future[BatchResult], tuple[int, Rows]] = {}
        self.stop: BaseException | None = None

    def recipients(self, rows: Rows, mail: EditionMail | None = None) -> list[Recipient]:
        config, key, mail = self.config, self.key, mail or self.mail
        return [recipient(config, key, mail, sid, email, name) for sid, email, name in rows]

    def work(self, rows: Rows, mail: EditionMail) -> BatchResult:
        """In a worker thread: sign each recipient's links, build the batch, send it."""
        return self.impl.send_batch(mail, self.recipients(rows, mail))

    def go(self, batches: Iterator[tuple[int, Rows, EditionMail]]) -> None:
        """Send each batch ``batches`` yields (with the mail of its variant); it writes each to the ledger (in
        flight) as it yields it."""
        limit = max(1, getattr(self.impl, "concurrency", 1))
        with ThreadPoolExecutor(max_workers=limit, thread_name_prefix=f"send-{self.impl.name}") as pool:
            try:
                while self.stop is None:  # checked before the next batch is written in flight
                    if self.halt.is_set():
                        self.report.halted = True
                        break
                    item = next(batches, None)
                    if item is None:
                        break
                    batch_id, rows, mail = item
                    self.pending[pool.submit(self.work, rows, mail)] = (batch_id, rows)
                    while len(self.pending) >= limit:
                        self.collect(wait(self.pending, return_when=FIRST_COMPLETED).done)
                while self.pending:
                    self.collect(wait(self.pending, return_when=FIRST_COMPLETED).done)
            except BaseException:
                # Interrupted (Ctrl-C, SIGTERM) or a bug: batches not started are certainly not sent; wait for
                # the ones already in flight so that their real outcome is written.
                for fut, (batch_id, _) in list(self.pending.items()):
                    if fut.cancel():
                        self.pending.pop(fut)
                        self.store.finish_batch(batch_id, "failed", error="not sent: the send was interrupted")
                try:
                    while self.pending:
                        self.collect(wait(self.pending, return_when=FIRST_COMPLETED).done)
                finally:
                    for batch_id, _ in self.pending.values():
                        self.store.finish_batch(batch_id, "unknown", error="the send stopped while in flight")
                    self.pending.clear()
                raise
        if self.stop is not None:
            raise self.stop

    def collect(self, done: set[Future[BatchResult]]) -> None:
        report = self.report
        for fut in done:  # a batch leaves ``pending`` only once its outcome is written
            batch_id, rows = self.pending[fut]
            try:
                result = fut.result()
            except UnknownOutcomeStop as exc:  # the run must stop, and an earlier attempt may have been accepted
                self.store.finish_batch(batch_id, "unknown", error=str(exc))
                del self.pending[fut]
                self.stop = self.stop or exc
                continue
            except ProviderError as exc:  # the provider promises nothing of this batch left
                self.store.finish_batch(batch_id, "failed", error=str(exc))
                del self.pending[fut]
                report.failed += len(rows)
                self.stop = self.stop or exc
                continue
            except Exception as exc:
                self.store.finish_batch(batch_id, "unknown", error=f"the provider crashed: {exc!r}")
                del self.pending[fut]
                self.stop = self.stop or exc
                continue
            self.store.finish_batch(
                batch_id,
                result.status,
                message_id=result.message_id,
                error=result.error,
                attempts=result.attempts,
                outcomes=result.outcomes,
            )
            del self.pending[fut]
            report.requests += result.attempts
            if result.outcomes:
                statuses = [result.outcomes.get(sid, (result.status, None))[0] for sid, _, _ in rows]
                report.sent += statuses.count("sent")
                report.failed += statuses.count("failed")
                if len(report.errors) < 50:
                    report.errors.extend(e for s, e in list(result.outcomes.values())[:10] if e and s != "sent")
            elif result.status == "sent":
                report.sent += len(rows)
            elif result.status == "failed":
                report.failed += len(rows)
            if result.error and len(report.errors) < 50:
                report.errors.append(result.error)
            if self.progress:
                self.progress(len(rows))


def send_edition(
    store: Store,
    config: Config,
    edition_id: int,
    rendered: Rendered,
    *,
    provider: str | Provider | None = None,
    dry_run: bool = False,
    retry_unknown: bool = False,
    wait_s: float | None = None,
    progress: Callable[[int], None] | None = None,
    halt: threading.Event | None = None,
    due: Due | None = None,
    expect: Callable[[int], None] | None = None,
    variants: Variants | None = None,
    confirm: Callable[[], Rendered] | None = None,
) -> SendReport:
    """Send the edition to every subscriber of its list who is owed it (see the module docstring).

    ``confirm``, called once the send lock is held (from then on the desk can change nothing), checks that the
    edition may still go (raising if not) and returns its rendering as it now stands, which replaces
    ``rendered``: an edit or a cleared approval between build and send is never sent around.

    ``expect(n)`` hears, before the first batch, about how many recipients this send will reach (receivers
    of the list less those who had it or pause): a progress bar's total, so it can say the time left.

    ``rendered`` is the edition's artefact (:func:`digest.render.render_edition`): sending never renders.
    ``due`` (from :func:`digest.send.rhythm.plan`, for a list with a send time) narrows the new recipients to the
    readers whose local send time has come and who had none of the list's editions on their local day yet.
    With ``variants``, readers who chose topics or weekly get the variant for their choice instead (one per
    reader and day all the same: the ledger row is the edition's, and names the variant); weekly readers only
    on the list's weekly day. Without it, everyone gets the whole edition.

    Setting ``halt`` (e.g. from a SIGTERM handler) stops starting batches; those in flight finish and
    are recorded, and the report says ``halted``. Whoever was not reached is owed it on the next run.
    """
    impl = resolve_provider(config, provider, dry_run=dry_run)
    try:
        report = SendReport(edition=edition_id, provider=impl.name, dry_run=dry_run)
        edition = store.edition(edition_id)
        if store.folded(edition_id):  # no ledger left to say who had it: sending again could send it twice
            raise NothingToSendError(
                f"edition {edition_id} of {edition.date} is past [store] retention_days: only its counts are"
                " kept, so it is not sent again"
            )
        list_row = store.list_by_id(edition.list_id)
        size = max(1, impl.batch_size)
        if dry_run:
            mail = edition_mail(store, config, edition_id, rendered)
            return _dry_run(
                store, config, impl, mail, list_row, _dry_run_key(store), report, progress, retry_unknown, due, expect
            )
        require_postal_address(list_row, impl.name)
        key = tokens.signing_key(store, require_env=impl.name != "outbox")
        run_id = uuid.uuid4().hex  # pids repeat (pid 1 in every container run): batches name their run
        lock = acquire_send_lock(
            store, edition_id, config.settings.send.lock_timeout if wait_s is None else wait_s, run_id
        )
        try:
            with _Heartbeat(store, lock, run_id):
                if confirm is not None:
                    rendered = confirm()
                orphans = store.orphaned_batches(edition_id, run_id)
                if orphans:
                    store.mark_unknown([b.id for b in orphans], "left in flight by a process that stopped")
                if retry_unknown:  # first ask the provider's events who had it: only the rest are sent again
                    with store.transaction(immediate=True):
                        report.resolved = store.resolve_unknown(edition_id)
                report.skipped = store.send_counts(edition_id).sent - report.resolved
                report.paused = store.paused_count(list_row.id, edition.date, consent.receiving(list_row))
                report.waiting = due.waiting if due else 0
                if expect:
                    expect(_owed(store, list_row, report))
                mails = _Mails(store, config, edition_id, rendered, variants)
                _Run(store, config, impl, mails.main, key, report, progress, halt).go(
                    _ledger_batches(
                        store,
                        mails,
                        impl.name,
                        edition_id,
                        list_row,
                        size,
                        retry_unknown,
                        report,
                        run_id,
                        edition.date,
                        due,
                    )
                )
                report.unknown = store.send_counts(edition_id).unknown
        finally:
            store.release_lock(lock, run_id)
        return report
    finally:
        impl.close()


def _owed(store: Store, list_row: MailingList, report: SendReport) -> int:
    """About how many a send will reach (for progress: failed ones retried may add a few)."""
    receivers = consent.receivers(list_row, store.status_counts().get(list_row.id, {}))
    return max(0, receivers - report.skipped - report.paused - report.waiting)


def _ledger_batches(
    store: Store,
    mails: _Mails,
    provider: str,
    edition_id: int,
    list_row: MailingList,
    size: int,
    retry_unknown: bool,
    report: SendReport,
    run_id: str,
    day: str,
    due: Due | None = None,
) -> Iterator[tuple[int, Rows, EditionMail]]:
    """Batches as they are written in flight: failed rows (and unknown ones if asked) again, each with the variant
    its row names, then the new."""
    active = consent.receiving(list_row)
    varied = mails.variants is not None and bool(store.variants(edition_id))
    for kind, rows in store.owed_again(edition_id, list_row.id, active, retry_unknown, size, run_id):
        named = store.send_variants(edition_id, (r[0] for r in rows)) if varied else {}
        groups: dict[int | None, Rows] = {}
        for row in rows:
            groups.setdefault(named.get(row[0]), []).append(row)
        for variant_id, part in groups.items():
            restarted = store.restart_batch(edition_id, provider, part, run_id=run_id, unknown_retry=kind == "unknown")
            if restarted is None:
                continue
            if kind == "unknown":
                report.retried += len(restarted[1])
            yield (*restarted, mails.mail(variant_id))
    if mails.variants is not None and store.has_choices(list_row.id, active):
        yield from _choice_batches(store, mails, provider, edition_id, list_row, size, report, run_id, day, due)
        return
    after = 0
    while True:
        claimed = store.claim_new_batch(
            edition_id, provider, list_row.id, active, after, size, run_id, day=day, due=due
        )
        if claimed is None:
            return
        yield (*claimed, mails.main)
        after = claimed[1][-1][0]


def _choice_batches(
    store: Store,
    mails: _Mails,
    provider: str,
    edition_id: int,
    list_row: MailingList,
    size: int,
    report: SendReport,
    run_id: str,
    day: str,
    due: Due | None = None,
) -> Iterator[tuple[int, Rows, EditionMail]]:
    """The readers owed the edition (and due now, with ``due``), in one walk, sorted into one batch per variant as
    each fills up: each batch is written in flight (its rows naming their variant) just before it is handed over."""
    active, weekly_today = consent.receiving(list_row), weekly_due(list_row, day)
    verdicts: dict[tuple[Any, Any], tuple[Choice, int | None]] = {}  # per attributes as stored: parsed once
    buckets: dict[int | None, Rows] = {}
    left_out: dict[Choice, int] = {}
    used: set[int | None] = set()

    def claim(variant_id: int | None, rows: Rows) -> tuple[int, Rows, EditionMail] | None:
        claimed = store.claim_rows(
            edition_id, provider, rows, variant_id, run_id, list_id=list_row.id, active=active, day=day
        )
        if claimed is None:
            return None
        used.add(variant_id)
        report.variants = len(used - {None})
        return (*claimed, mails.mail(variant_id))

    after = 0
    while chunk := store.owed_with_choices(list_row.id, edition_id, active, after, size, day, due):
        after = chunk[-1][0]
        for sid, email, name, topics, frequency in chunk:
            verdict = verdicts.get((topics, frequency))
            if verdict is None:
                found = consent.choice(topics, frequency)
                if list_row.weekday and found.frequency == "weekly":  # a weekly list: each edition is the week's
                    found = Choice(found.topics, "daily")
                waits = found.frequency == "weekly" and not weekly_today
                verdict = verdicts[(topics, frequency)] = (found, _WAIT if waits else mails.target(found))
            found, variant_id = verdict
            if variant_id == _WAIT:
                report.weekly += 1
                continue
            if variant_id == _NOTHING:
                report.empty += 1
                left_out[found] = left_out.get(found, 0) + 1
                continue
            bucket = buckets.setdefault(variant_id, [])
            bucket.append((sid, email, name))
            if len(bucket) >= size:
                buckets[variant_id] = []
                if (batch := claim(variant_id, bucket)) is not None:
                    yield batch
    for variant_id, rows in buckets.items():
        if rows and (batch := claim(variant_id, rows)) is not None:
            yield batch
    report.notes.extend(
        f"{choice.label}: no stories today, so {n} reader(s) get nothing from this edition"
        for choice, n in left_out.items()
    )


def _dry_run_key(store: Store) -> bytes:
    """The signing key a real send would use; a throwaway one if none exists yet (a dry run writes nothing)."""
    value = secret("DIGEST_SECRET") or store.meta_get("dev_signing_key") or secrets.token_hex(32)
    return value.encode("utf-8")


def _dry_run(
    store: Store,
    config: Config,
    impl: Provider,
    mail: EditionMail,
    list_row: MailingList,
    key: bytes,
    report: SendReport,
    progress: Callable[[int], None] | None,
    retry_unknown: bool = False,
    due: Due | None = None,
    expect: Callable[[int], None] | None = None,
) -> SendReport:
    """Build every batch a real run would send (failed rows, unknown ones if asked, then the new), exactly as
    it would leave (bodies, messages); send nothing, write nothing."""
    edition_id = mail.edition_id
    report.skipped = store.send_counts(edition_id).sent
    report.paused = store.paused_count(list_row.id, store.edition(edition_id).date, consent.receiving(list_row))
    report.waiting = due.waiting if due else 0
    if expect:
        expect(_owed(store, list_row, report))
    size, active = max(1, impl.batch_size), consent.receiving(list_row)
    again = store.owed_again(edition_id, list_row.id, active, retry_unknown, size)
    retried = 0

    def chunks() -> Iterator[list[tuple[int, str, str]]]:
        nonlocal retried
        for kind, rows in again:
            retried += len(rows) if kind == "unknown" else 0
            yield rows
        yield from store.owed_new(list_row.id, edition_id, active, size, day=store.edition(edition_id).date, due=due)

    for chunk in chunks():
        batch = [recipient(config, key, mail, sid, email, name) for sid, email, name in chunk]
        impl.prepare(mail, batch)
        report.sent += len(batch)
        report.requests += 1
        if progress:
            progress(len(batch))
    report.retried = retried
    report.unknown = store.send_counts(edition_id).unknown - retried
    return report


def send_test(
    store: Store,
    config: Config,
    edition_id: int,
    rendered: Rendered,
    email: str,
    provider: str | Provider | None = None,
    dry_run: bool = False,
) -> SendReport:
    """A test copy to one address, marked as a test, not recorded in the ledger."""
    impl = resolve_provider(config, provider, dry_run=dry_run)
    try:
        key = _dry_run_key(store) if dry_run else tokens.signing_key(store)
        mail = edition_mail(store, config, edition_id, rendered, test=True)
        found = store.find_subscriber(email)
        r = recipient(config, key, mail, found.id if found else 0, email, found.name if found else "")
        report = SendReport(edition=edition_id, provider=impl.name, dry_run=dry_run)
        if dry_run:
            impl.prepare(mail, [r])
            report.sent = 1
            return report
        result = impl.send_batch(mail, [r])
    finally:
        impl.close()
    report.requests = result.attempts
    status = result.outcomes.get(r.subscriber_id, (result.status, result.error))
    if status[0] == "sent":
        report.sent = 1
    elif status[0] == "unknown":
        report.unknown = 1
        report.errors.append(status[1] or result.error or "unknown")
    else:
        report.failed = 1
        report.errors.append(status[1] or result.error or "failed")
    return report
