"""People and lists: validated addresses, consent kept, CSV import that loses nothing good.

``validate`` decides what may enter the store, ``csvfile`` reads and writes the roster format,
``importer`` applies records in batches under the consent rules of :mod:`digest.consent`. This module
holds the one-person operations the CLI and the web pages call: add, unsubscribe, confirm, remove
(erasure), show, and ``sync`` of a roster folder.
"""

from __future__ import annotations

import io
import json
import os
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO, Any

from digest import clock, consent, tokens, urls
from digest.config import Config
from digest.consent import ACTIVE, LEFT, STATUSES, decide, email_hash
from digest.errors import NotFoundError, SubscriberError
from digest.i18n import check_language
from digest.models import MailingList, Subscriber
from digest.store import Store
from digest.store.base import dumps
from digest.store.people import check_list_name
from digest.subscribers.csvfile import safe_cell, write_roster
from digest.subscribers.importer import Importer, ImportReport, import_csv, import_size
from digest.subscribers.validate import POLICY, clean_name, normalize_email, parse_attributes

__all__ = [
    "ACTIVE",
    "Erased",
    "LEFT",
    "POLICY",
    "STATUSES",
    "ImportReport",
    "Importer",
    "Subscribed",
    "SyncReport",
    "SyncedFile",
    "add",
    "add_list",
    "clean_name",
    "confirm",
    "decide",
    "email_hash",
    "export_csv",
    "import_csv",
    "import_size",
    "keywords",
    "lists_overview",
    "normalize_email",
    "parse_attributes",
    "remove",
    "roster",
    "safe_cell",
    "edit_list",
    "set_keywords",
    "show",
    "subscribe",
    "sync",
    "unsubscribe",
    "write_export",
]


def add(
    store: Store,
    email: str,
    list_name: str,
    *,
    name: str = "",
    attributes: dict[str, Any] | None = None,
    status: str | None = None,
    force: bool = False,
    check_deliverability: bool = False,
) -> tuple[int, str]:
    """Subscribe one person to a list under the same rules as an import; (subscriber id, status)."""
    importer = Importer(store, list_name, force=force, status=status, check_deliverability=check_deliverability)
    importer.feed(0, email, name, dumps(attributes) if attributes else None)
    report = importer.finish()
    if report.rejected:
        raise SubscriberError(report.rejected[0].reason)
    found = store.subscriber(normalize_email(email))
    return found.id, store.subscription(found.id, importer.list.id) or ""


@dataclass(frozen=True)
class Subscribed:
    """One person added to one list: their status, and on a double opt-in list the link that confirms them."""

    id: int
    email: str
    list: str
    status: str
    confirm_url: str | None = None
    mail: dict[str, Any] | None = None  # the confirmation mail, when one was sent: provider, status, error

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def subscribe(
    store: Store,
    config: Config,
    email: str,
    list_name: str,
    *,
    name: str = "",
    attributes: dict[str, Any] | None = None,
    status: str | None = None,
    force: bool = False,
    check_deliverability: bool = False,
    topics: list[str] | None = None,
    timezone: str | None = None,
) -> Subscribed:
    """:func:`add`, with what the editor needs next: the stored address and, while unconfirmed, the confirm link.

    ``topics`` and ``timezone`` (IANA, checked) are kept in the attributes as an import keeps them (``topics``,
    ``timezone``), over what the person already has there."""
    if topics or timezone:
        attributes = _with_topics_and_zone(store, email, attributes, topics, timezone)
    sid, got = add(
        store,
        email,
        list_name,
        name=name,
        attributes=attributes,
        status=status,
        force=force,
        check_deliverability=check_deliverability,
    )
    lst = store.list_(list_name)
    issued = int(clock.now().timestamp())  # the link expires ([web] confirm_days)
    key = tokens.signing_key(store)
    link = urls.confirm(config.public_url, key, sid, lst.id, issued) if got == "unconfirmed" else None
    person = store.subscriber_by_id(sid)
    return Subscribed(sid, person.email if person else email, lst.name, got, link)


def _with_topics_and_zone(
    store: Store, email: str, attributes: dict[str, Any] | None, topics: list[str] | None, timezone: str | None
) -> dict[str, Any]:
    from digest.subscribers.validate import check_timezone

    if attributes is None:  # the person's own attributes stay: only the two keys change
        try:
            found = store.find_subscriber(normalize_email(email))
        except SubscriberError:
            found = None  # a bad address: add() says why
        attributes = dict(found.attributes) if found else {}
    values = dict(attributes)
    if topics:
        values["topics"] = keywords(topics)
    if timezone and timezone.strip():
        values["timezone"] = check_timezone(timezone.strip())
    return values


def add_list(
    store: Store,
    config: Config,
    name: str,
    *,
    from_email: str | None = None,
    from_name: str | None = None,
    reply_to: str | None = None,
    subject_prefix: str | None = None,
    address: str | None = None,
    double_opt_in: bool = False,
    boost: list[str] | None = None,
    block: list[str] | None = None,
    title: str = "",
    description: str = "",
    language: str = "en",
    sources: list[str] | None = None,
    tags: list[str] | None = None,
    send_at: str = "",
    timezone: str = "",
    weekday: str = "",
    require_approval: bool = False,
    public: bool = True,
) -> MailingList:
    """Create a list; each sender setting not given comes from ``[sender]`` of digest.toml, checked and cleaned.
    ``language``: the readers' BCP 47 tag (labels, date, lang and dir); the rest: see :func:`_scope_and_rhythm`."""
    check_list_name(name)  # before the sender defaults are read, so a bad name is the error shown
    language = check_language(language)
    extra = _scope_and_rhythm(
        store,
        sources=sources,
        tags=tags,
        send_at=send_at,
        timezone=timezone,
        weekday=weekday,
        require_approval=require_approval,
        public=public,
    )
    sender = config.settings.sender
    reply = reply_to if reply_to is not None else sender.reply_to
    return store.add_list(
        name,
        from_email=normalize_email(from_email or sender.from_email),
        from_name=clean_name(from_name if from_name is not None else sender.from_name),
        reply_to=normalize_email(reply) if reply else "",
        subject_prefix=clean_name(subject_prefix if subject_prefix is not None else sender.subject_prefix),
        address=clean_name(address if address is not None else sender.address),
        double_opt_in=double_opt_in,
        boost=keywords(boost or []),
        block=keywords(block or []),
        title=clean_name(title),
        description=clean_name(description),
        language=language,
        **extra,
    )


def _scope_and_rhythm(
    store: Store,
    *,
    sources: list[str] | None = None,
    tags: list[str] | None = None,
    send_at: str | None = None,
    timezone: str | None = None,
    weekday: str | None = None,
    require_approval: bool | None = None,
    public: bool | None = None,
) -> dict[str, Any]:
    """The list columns for what a list draws from and when it goes, checked (those given, as stored):
    ``sources`` (source names, each must exist) or ``tags`` (source tags) restrict its stories, empty for all;
    ``send_at`` (HH:MM) and ``timezone`` (IANA) its readers' hour; ``weekday`` makes it weekly;
    ``require_approval`` holds each edition for the editor; ``public`` offers it on the signup page."""
    from digest import schedule

    fields: dict[str, Any] = {}
    if sources is not None:
        names = keywords(sources)
        known = {s.name for s in store.sources()}
        unknown = [n for n in names if n not in known]
        if unknown:
            raise SubscriberError(
                f"no source named {', '.join(repr(n) for n in unknown)}; see 'digest sources list' for the names"
            )
        fields["sources"] = dumps(names)
    if tags is not None:
        fields["tags"] = dumps(keywords(tags))
    if send_at is not None:
        fields["send_at"] = schedule.check_send_at(send_at)
    if timezone is not None:
        fields["timezone"] = schedule.check_timezone(timezone)
    if weekday is not None:
        fields["weekday"] = schedule.check_weekday(weekday)
    if require_approval is not None:
        fields["require_approval"] = int(require_approval)
    if public is not None:
        fields["public"] = int(public)
    return fields


def edit_list(
    store: Store,
    name: str,
    *,
    from_email: str | None = None,
    from_name: str | None = None,
    reply_to: str | None = None,
    subject_prefix: str | None = None,
    address: str | None = None,
    title: str | None = None,
    description: str | None = None,
    double_opt_in: bool | None = None,
    language: str | None = None,
    sources: list[str] | None = None,
    tags: list[str] | None = None,
    send_at: str | None = None,
    timezone: str | None = None,
    weekday: str | None = None,
    require_approval: bool | None = None,
    public: bool | None = None,
) -> tuple[MailingList, list[str]]:
    """Change the settings given (checked and cleaned; ``reply_to=""`` removes it): (the list, what changed).

    ``title`` and ``description`` are what readers see (signup page, mails); ``double_opt_in`` whether new
    subscribers must confirm by a link first."""
    fields: dict[str, Any] = {}
    if from_email is not None:
        fields["from_email"] = normalize_email(from_email)
    if from_name is not None:
        fields["from_name"] = clean_name(from_name)
    if reply_to is not None:
        fields["reply_to"] = normalize_email(reply_to) if reply_to.strip() else ""
    if subject_prefix is not None:
        fields["subject_prefix"] = clean_name(subject_prefix)
    if address is not None:
        fields["address"] = clean_name(address)
    if title is not None:
        fields["title"] = clean_name(title)
    if description is not None:
        fields["description"] = clean_name(description)
    if double_opt_in is not None:
        fields["double_opt_in"] = int(double_opt_in)
    if language is not None:
        fields["language"] = check_language(language)
    fields |= _scope_and_rhythm(
        store,
        sources=sources,
        tags=tags,
        send_at=send_at,
        timezone=timezone,
        weekday=weekday,
        require_approval=require_approval,
        public=public,
    )
    stored = store.row("SELECT * FROM lists WHERE name = ?", (name,)) or {}
    changed = [k for k, v in fields.items() if stored.get(k) != v]  # what was given as it already was is no change
    return store.update_list(name, **fields), changed


def keywords(words: list[str]) -> list[str]:
    """Editor keywords as stored: trimmed, blanks dropped, each once, in the order given."""
    return list(dict.fromkeys(w.strip() for w in words if w.strip()))


def set_keywords(
    store: Store, name: str, *, boost: list[str] | None = None, block: list[str] | None = None, clear: bool = False
) -> MailingList:
    """Replace the list's boost and/or block words (``clear``: remove both); a side not given is kept."""
    if clear:
        return store.set_list_keywords(name, boost=[], block=[])
    if not boost and not block:
        return store.list_(name)
    return store.set_list_keywords(
        name, boost=keywords(boost) if boost else None, block=keywords(block) if block else None
    )


def lists_overview(store: Store) -> list[dict[str, Any]]:
    """Every list with its settings, ``active`` (who receives the next edition) and ``pending`` (unconfirmed)."""
    counts = store.status_counts()
    return [
        {
            **asdict(lst),
            "active": consent.receivers(lst, counts.get(lst.id, {})),
            "pending": consent.pending(lst, counts.get(lst.id, {})),
        }
        for lst in store.lists()
    ]


def roster(store: Store, list_name: str | None = None, status: str | None = None) -> Iterator[dict[str, Any]]:
    """Subscriptions (of one list, of one status) with ``receives``: whether each gets the next edition.

    Streamed from the store: a million readers cost no more memory than ten. Arguments are checked at once.
    """
    if status is not None:
        consent.check_status(status)
    list_id = store.list_(list_name).id if list_name else None
    lists = {lst.name: lst for lst in store.lists()}
    return (
        {**asdict(m), "receives": m.list is not None and consent.receives(lists[m.list], m.status)}
        for m in store.subscribers(list_id, status)
    )


def _person(store: Store, email: str) -> Subscriber:
    try:
        address = normalize_email(email)
    except SubscriberError:
        address = email
    found = store.find_subscriber(address)
    if found is None:
        raise NotFoundError(f"no subscriber {email}: see 'digest subscribers list'")
    return found


def unsubscribe(store: Store, email: str, list_name: str | None = None, *, status: str = "unsubscribed") -> list[str]:
    """Move the person out of one list (or every list); the names of the lists they left."""
    person = _person(store, email)
    if list_name:
        lists = [store.list_(list_name)]
    else:
        lists = [store.list_by_id(s.list_id) for s in store.subscriptions_of(person.id)]
    return consent.leave(store, person, lists, status)


def confirm(store: Store, subscriber_id: int, list_id: int) -> bool:
    """Double opt-in: confirm an unconfirmed subscription; False when it was not unconfirmed."""
    return consent.confirm(store, subscriber_id, list_id)


@dataclass(frozen=True)
class Erased:
    email: str
    files: int = 0  # their .eml files in the outbox
    log_lines: int = 0  # lines of digest.log and cron.log that named them


def remove(store: Store, email: str, config: Config | None = None) -> Erased:
    """Erase the person (right to erasure), keeping only a one-way hash of the address.

    With the home's ``config``, what the home keeps about them goes too: their ``.eml`` files in the
    outbox and every line of the logs that names their address.
    """
    person = _person(store, email)
    consent.erase(store, person)
    if config is None:
        return Erased(person.email)
    files = 0
    if config.outbox_dir.is_dir():
        for path in config.outbox_dir.glob(f"*/{person.id:08d}-*.eml"):
            path.unlink(missing_ok=True)
            files += 1
    lines = sum(_drop_lines(log, person.email) for log in (config.log_path, config.cron_log_path))
    return Erased(person.email, files, lines)


def _drop_lines(log: Path, email: str) -> int:
    """Rewrite ``log`` without the lines naming ``email`` (as written, or JSON-escaped); how many went."""
    if not log.is_file():
        return 0
    needles = {email.lower(), json.dumps(email)[1:-1].lower()}
    dropped = 0
    tmp = log.with_name(log.name + ".erasing")
    with log.open("rb") as src, tmp.open("wb") as out:
        for line in src:
            low = line.decode("utf-8", "surrogateescape").lower()
            if any(n in low for n in needles):
                dropped += 1
            else:
                out.write(line)
    if dropped:
        os.replace(tmp, log)  # whole, then swapped in: a crash leaves the old log or the new, never half
    else:
        tmp.unlink()
    return dropped


def show(store: Store, email: str) -> dict[str, Any]:
    """The person, their subscriptions and what they were sent."""
    person = _person(store, email)
    sent = [
        {
            "edition": s.edition_id,
            "list": s.list,
            "date": s.date,
            "subject": s.subject,
            "status": s.status,
            "message_id": s.message_id,
            "at": s.updated_at,
        }
        for s in store.sends_for(person.id)
    ]
    subscriptions = [
        {"list": s.list, "status": s.status, "created_at": s.created_at, "updated_at": s.updated_at}
        for s in store.subscriptions_of(person.id)
    ]
    return {**asdict(person), "subscriptions": subscriptions, "sent": sent}


def write_export(store: Store, out: IO[str], list_name: str | None = None) -> int:
    """Stream the roster (with each person's status when a list is given) to ``out``; rows written."""
    list_id = store.list_(list_name).id if list_name else None
    return write_roster(out, store.export_rows(list_id), with_status=list_id is not None)


def export_csv(store: Store, list_name: str | None = None) -> str:
    buf = io.StringIO()
    write_export(store, buf, list_name)
    return buf.getvalue()


@dataclass(frozen=True)
class SyncedFile:
    """One ``<list>.csv`` of a sync: what it changed on its list, or why it could not be applied."""

    list: str
    file: str
    report: ImportReport | None = None  # None when the file could not be applied
    error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"list": self.list, "file": self.file}
        if self.report is None:
            return out | {"error": self.error}
        got = self.report
        counts = {"added": got.added, "updated": got.updated, "unchanged": got.unchanged}
        counts["rejected"] = got.rejected_count
        return out | counts | {"error": None}


@dataclass
class SyncReport:
    lists: list[SyncedFile] = field(default_factory=list)
    total: ImportReport = field(default_factory=ImportReport)

    @property
    def failed(self) -> int:
        return sum(1 for entry in self.lists if entry.error)

    def as_dict(self) -> dict[str, Any]:
        return {**self.total.as_dict(), "lists": [entry.as_dict() for entry in self.lists]}


def sync(store: Store, folder: Path, *, force: bool = False) -> SyncReport:
    """Apply every ``<list>.csv`` in ``folder`` to the list of that name, with the import rules."""
    if folder.is_file():
        raise SubscriberError(
            f"{folder} is a file, but sync takes a folder of <list>.csv files; for one file use"
            f" 'digest subscribers import {folder} --list NAME'"
        )
    if not folder.is_dir():
        raise NotFoundError(f"{folder} does not exist; give a folder with one <list>.csv per list (e.g. main.csv)")
    report = SyncReport()
    files = sorted(folder.glob("*.csv"))
    if not files:
        raise NotFoundError(f"no <list>.csv files in {folder}; add e.g. {folder / 'main.csv'}")
    for path in files:
        try:
            got = import_csv(store, path, path.stem, force=force)
        except (NotFoundError, SubscriberError) as exc:
            report.lists.append(SyncedFile(path.stem, str(path), error=str(exc)))
            continue
        report.total.add(got, str(path))
        report.lists.append(SyncedFile(path.stem, str(path), got))
    return report
