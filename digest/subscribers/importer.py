"""Bulk import with the consent rules, in batches: memory stays flat whatever the file size.

Each record is validated in Python first (address, name, attributes, status); good records gather in a
batch that is written in one write transaction: one lookup of who exists already, then ``executemany``
inserts and updates. A crash loses at most the batch in hand, and because importing the same rows
again changes nothing, running the import again finishes the job.

The consent rules (the same for ``subscribers add``, ``import`` and ``sync``; they live in
:mod:`digest.consent`, this module applies them a batch at a time):

* nobody who unsubscribed, bounced, complained or was erased is subscribed again, unless
  ``force`` (``--force-resubscribe``) says they gave new consent; an address that bounced, complained
  or unsubscribed everywhere (a suppression, kept even for addresses not in the store) is subscribed
  to no list, not even a new one, without it (and ``force`` forgets the suppression);
* a file may always move someone *out* (a ``status`` column saying unsubscribed, or listmonk's
  ``blocklisted``), and may confirm an unconfirmed subscription, but never downgrades a confirmed one;
* an empty name or attributes cell keeps what the store has;
* an address that appears twice in one file (in any letter case) counts once: the later row is rejected as
  ``duplicate of line N``, so importing the file again changes nothing.
"""

from __future__ import annotations

import contextlib
import csv
import os
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from digest import clock
from digest.consent import LEFT, apply_batch, check_status, decide, default_status, email_hash, suppress
from digest.errors import NotFoundError, SubscriberError
from digest.models import iso
from digest.store import Store
from digest.subscribers import csvfile, formats
from digest.subscribers.parallel import checked_records
from digest.subscribers.validate import Checked, check_row

BATCH = 10_000
# A report keeps this many rejected rows and warnings (the first ones) and counts the rest: 500,000 rejects
# must not cost memory; ``--rejects FILE`` receives every one.
KEPT = 100

RejectSink = Callable[[int, str, str, list[str]], None]


@dataclass(frozen=True, slots=True)
class Rejection:
    """A record left out: its line in the file and why (``file`` when several files were read)."""

    line: int
    email: str
    reason: str
    file: str = ""

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"line": self.line, "email": self.email, "reason": self.reason}
        return out | ({"file": self.file} if self.file else {})


@dataclass(frozen=True, slots=True)
class ImportWarning:
    """A record imported with something left out or folded (a control character in a name...)."""

    line: int
    email: str
    warning: str
    file: str = ""

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"line": self.line, "email": self.email, "warning": self.warning}
        return out | ({"file": self.file} if self.file else {})


@dataclass
class ImportReport:
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: list[Rejection] = field(default_factory=list)  # the first KEPT; rejected_count counts them all
    warnings: list[ImportWarning] = field(default_factory=list)  # the first KEPT; warnings_count counts all
    suppressed: int = 0  # people the file marks as gone (unsubscribed, cleaned, bounced...): kept from all mail
    format: str = ""  # the export format the file was read as
    unused_columns: list[str] = field(default_factory=list)
    rejected_count: int = 0
    warnings_count: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "added": self.added,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "rejected": [r.as_dict() for r in self.rejected],
            "rejected_count": self.rejected_count,
            "warnings": [w.as_dict() for w in self.warnings],
            "warnings_count": self.warnings_count,
            "suppressed": self.suppressed,
            "format": self.format,
            "unused_columns": self.unused_columns,
        }

    def note_rejected(self, rejection: Rejection) -> None:
        self.rejected_count += 1
        if len(self.rejected) < KEPT:
            self.rejected.append(rejection)

    def note_warning(self, warning: ImportWarning) -> None:
        self.warnings_count += 1
        if len(self.warnings) < KEPT:
            self.warnings.append(warning)

    def add(self, other: ImportReport, file: str = "") -> None:
        """Count ``other`` in (its rows named by ``file``, when several files are read)."""
        self.added += other.added
        self.updated += other.updated
        self.unchanged += other.unchanged
        self.suppressed += other.suppressed
        for r in other.rejected:
            self.note_rejected(replace(r, file=file or r.file))
        for w in other.warnings:
            self.note_warning(replace(w, file=file or w.file))
        # the ones other counted but did not keep
        self.rejected_count += other.rejected_count - len(other.rejected)
        self.warnings_count += other.warnings_count - len(other.warnings)


@dataclass(slots=True)
class _Row:
    line: int
    raw_email: str
    email: str
    name: str
    attributes: str | None  # canonical JSON, or None to keep the stored value
    status: str | None  # None: the default for the list
    created: str | None  # when they signed up, as the file says (None: now)
    fields: list[str] | None  # the record as read, for the rejects file


class Importer:
    """Feed records one at a time, then :meth:`finish`; see the module docstring for the rules."""

    def __init__(
        self,
        store: Store,
        list_name: str,
        *,
        force: bool = False,
        status: str | None = None,
        check_deliverability: bool = False,
        on_reject: RejectSink | None = None,
        batch_size: int | None = None,
        fold_names: bool = False,
        suppress_left: bool = False,
    ) -> None:
        self.store = store
        self.fold_names = fold_names
        self.suppress_left = suppress_left
        self.list = store.list_(list_name)
        self.default_status = check_status(status) if status is not None else default_status(self.list)
        self.force = force
        self.check_deliverability = check_deliverability
        self.on_reject = on_reject
        self.batch_size = batch_size or BATCH
        self.report = ImportReport()
        self._batch: dict[str, _Row] = {}
        self._flushed = False  # whether a batch went to the store (and the store knows its addresses)

    def reject(self, line: int, email: str, reason: str, fields: list[str] | None = None) -> None:
        self.report.note_rejected(Rejection(line, email, reason))
        if self.on_reject is not None:
            self.on_reject(line, email, reason, fields if fields is not None else [email])

    def feed(
        self,
        line: int,
        email: str,
        name: str | None = None,
        attributes: str | None = None,
        status: str | None = None,
        fields: list[str] | None = None,
    ) -> None:
        """Validate and take one record."""
        checked = check_row(email, name, attributes, status, self.check_deliverability, fold_names=self.fold_names)
        self.take(line, email, checked, fields)

    def take(self, line: int, email: str, checked: Checked, fields: list[str] | None = None) -> None:
        """Take one record already passed through :func:`check_row` (perhaps in another process)."""
        if isinstance(checked, str):
            self.reject(line, email, checked, fields)
            return
        address, clean, attrs, wanted, created, notes = checked
        for note in notes:
            self.report.note_warning(ImportWarning(line, email, note))
        key = address.lower()
        if (first := self._batch.get(key)) is not None:  # the same person twice: the first row counts
            self.reject(line, email, f"duplicate of line {first.line}", fields)
            return
        self._batch[key] = _Row(line, email, address, clean, attrs, wanted, created, fields)
        if len(self._batch) >= self.batch_size:
            self.flush()

    def flush(self) -> None:
        batch, self._batch = self._batch, {}
        if not batch:
            return
        store, list_id, report = self.store, self.list.id, self.report
        new_subs: list[tuple[int, str, str, str, str]] = []
        changed_subs: list[tuple[str, str, int]] = []
        new_links: list[tuple[int, str]] = []
        changed_links: list[tuple[int, str]] = []
        forgiven: list[str] = []
        unsuppressed: list[str] = []
        gone: list[tuple[str, str]] = []
        now = iso(clock.now())
        with store.transaction(immediate=True):
            if self._flushed:  # rows of an earlier batch: a later row for the same address is a duplicate
                for key, first_line in store.import_seen_among(list(batch)).items():
                    row = batch.pop(key)
                    self.reject(row.line, row.raw_email, f"duplicate of line {first_line}", row.fields)
            else:
                store.import_seen_reset()
            self._flushed = True
            store.import_seen_add((key, row.line) for key, row in batch.items())
            existing = store.import_lookup(list(batch), list_id)
            erased: set[str] = set()
            if store.has_erasures():
                hashes = {key: email_hash(row.email) for key, row in batch.items() if key not in existing}
                erased = store.erased_among(list(hashes.values()))
            suppressed: dict[str, str] = {}
            if store.has_suppressions():
                suppressed = store.suppressed_among([email_hash(row.email) for row in batch.values()])
            next_id = store.next_subscriber_id()
            for key, row in batch.items():
                wanted = row.status or self.default_status
                if self.suppress_left and wanted in LEFT:
                    gone.append((row.email, wanted))
                found = existing.get(key)
                if suppressed and wanted not in LEFT and (hashed := email_hash(row.email)) in suppressed:
                    if not self.force:
                        self.reject(
                            row.line,
                            row.raw_email,
                            f"{row.email} is suppressed ({suppressed[hashed]});"
                            " not subscribed to any list without new consent (--force-resubscribe)",
                            row.fields,
                        )
                        continue
                    unsuppressed.append(hashed)
                if found is None:
                    if erased and (hashed := email_hash(row.email)) in erased:
                        if not self.force:
                            self.reject(
                                row.line,
                                row.raw_email,
                                "erased at their request; not added back without new consent (--force-resubscribe)",
                                row.fields,
                            )
                            continue
                        forgiven.append(hashed)
                    new_subs.append((next_id, row.email, row.name, row.attributes or "{}", row.created or now))
                    new_links.append((next_id, wanted))
                    next_id += 1
                    report.added += 1
                    continue
                sid, old_name, old_attrs, current = found
                try:
                    status = decide(current, wanted, force=self.force)
                except SubscriberError as exc:
                    self.reject(row.line, row.raw_email, f"{row.email} is {exc}", row.fields)
                    continue
                name = row.name or old_name
                attrs = row.attributes if row.attributes is not None else old_attrs
                touched = (name, attrs) != (old_name, old_attrs)
                if touched:
                    changed_subs.append((name, attrs, sid))
                if current is None:
                    new_links.append((sid, status))
                    report.added += 1
                elif status != current:
                    changed_links.append((sid, status))
                    report.updated += 1
                elif touched:
                    report.updated += 1
                else:
                    report.unchanged += 1
            for email, why in gone:
                suppress(store, email, why)
            report.suppressed += len(gone)
            store.insert_subscribers(new_subs)
            store.update_subscribers(changed_subs)
            # every status change of the batch, decided above by consent.decide, is applied by consent
            apply_batch(store, list_id, new_links, changed_links, forgiven=forgiven, unsuppressed=unsuppressed, now=now)

    def finish(self) -> ImportReport:
        self.flush()
        return self.report


def import_size(path: Path) -> int:
    """The size in bytes of the roster file at ``path``, or the error a person can act on."""
    if path.is_dir():
        raise SubscriberError(
            f"{path} is a folder: give the path of a CSV file (or use 'digest subscribers sync"
            f" {path}' for a folder of <list>.csv files)"
        )
    try:
        return path.stat().st_size
    except FileNotFoundError:
        raise NotFoundError(f"{path} does not exist: give the path of a CSV file") from None


def import_csv(
    store: Store,
    path: Path,
    list_name: str,
    *,
    force: bool = False,
    status: str | None = None,
    check_deliverability: bool = False,
    rejects: Path | None = None,
    on_bytes: Callable[[int], None] | None = None,
    worker: bool | None = None,
    kind: str = "auto",
) -> ImportReport:
    """Import a roster CSV into a list (see :mod:`digest.subscribers.csvfile` for the format).

    ``kind`` is the export format (``auto`` tells by the header: :mod:`digest.subscribers.formats`);
    people that another tool's export marks as gone (unsubscribed, cleaned, bounced, email disabled) are
    kept as suppressions too, so no list of this newsletter mails them without their own consent.
    ``rejects`` receives each refused record as read, after its line number and reason, under the
    file's own header: fix the rows there and import that file again. A large file on a machine with
    a spare core is parsed and checked in a reader process while this one writes (``worker``: force
    it on or off).
    """
    import_size(path)  # a folder or a missing file: said before anything starts
    importer = Importer(
        store, list_name, force=force, status=status, check_deliverability=check_deliverability, fold_names=True
    )
    if worker is None:
        worker = use_worker(path)
    records = checked_records(path, on_bytes, check_deliverability, worker, keep_fields=rejects is not None, kind=kind)
    with contextlib.ExitStack() as stack:
        stack.enter_context(store.bulk_cache())
        stack.callback(records.close)
        for cols, line, email, fields, checked in records:
            if not importer.report.format:
                importer.report.format = cols.format
                importer.report.unused_columns = list(cols.unused)
                importer.suppress_left = formats.FORMATS[cols.format].foreign
            if rejects is not None and importer.on_reject is None:
                out = stack.enter_context(rejects.open("w", encoding="utf-8", newline=""))
                writer = csv.writer(out, lineterminator="\n")
                writer.writerow(["line", "reason", *cols.header])
                importer.on_reject = lambda ln, _e, why, rec, w=writer: w.writerow(  # type: ignore[misc]
                    [ln, why, *(csvfile.safe_cell(f) for f in rec)]
                )
            importer.take(line, email, checked, fields)
        if rejects is not None and importer.on_reject is None:
            rejects.write_text("line,reason\n", encoding="utf-8")
        return importer.finish()


PARALLEL_MIN_BYTES = 4_000_000  # below this, starting a reader process costs more than it saves


def use_worker(path: Path) -> bool:
    try:
        size = path.stat().st_size
    except OSError:
        return False
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return cores > 1 and size >= PARALLEL_MIN_BYTES
