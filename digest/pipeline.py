"""The whole job, as cron runs it: collect, build every list's edition, send it.

Every step is safe to repeat: collecting twice adds nothing, a built edition that has started
sending stays frozen, and the ledger sends nobody the same edition twice.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from datetime import date as date_type
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from digest import clock, desk
from digest.collect import CollectReport, collect
from digest.config import Config, RankSettings
from digest.errors import ConfigError, DigestError, LockedError, NothingToSendError, TemplateError
from digest.models import Due, EditionStory, MailingList, Ranked, Rendered, RunSummary, UnfinishedEdition, iso
from digest.rank import RankResult, rank
from digest.render import make_context, render_context, render_edition
from digest.send import SendReport, rhythm, send_edition, web_values
from digest.store import Store
from digest.variants import EditionVariants

WEEK_HOURS = 7 * 24.0


def local_date(config: Config, now: datetime) -> str:
    """The date of an edition built at ``now``: today in the configured timezone (:func:`clock.local_date`)."""
    return clock.local_date(config.settings.timezone, now)


Rows = list[dict[str, Any]]
Stories = list[EditionStory]
Notes = list[str]


@dataclass
class BuildReport:
    """An edition as ``build`` froze it (or found it frozen)."""

    edition: int
    list: str
    date: str
    subject: str
    stories: Stories  # (an alias: the field ``list`` shadows the builtin inside the class)
    frozen: bool = False  # True when the edition had started sending, or was approved, and was kept as it was
    approved: str | None = None  # when the editor approved it (None: not approved)
    warnings: Notes = field(default_factory=Notes)  # stories left out because they would not render

    def as_dict(self) -> dict[str, Any]:
        """What ``build --json`` prints: each story's rank, id, title, link, score and its parts, source, others."""
        return {
            "edition": self.edition,
            "list": self.list,
            "date": self.date,
            "subject": self.subject,
            "stories": [
                {
                    "rank": s.rank,
                    "story_id": s.story_id,
                    "title": s.title,
                    "url": s.url,
                    "score": round(s.score, 6),
                    "why": s.why,
                    "source": s.source,
                    "also": s.also,
                }
                for s in self.stories
            ],
            "warnings": self.warnings,
        }


def build_edition(
    store: Store, config: Config, list_name: str, *, date: str | None = None, now: datetime | None = None
) -> BuildReport:
    """Rank and freeze the edition of ``list_name`` for ``date``."""
    now = now or clock.now()
    if date is not None:
        try:
            date_type.fromisoformat(date)
        except ValueError:
            raise ConfigError(f"--date {date!r} is not a date; use YYYY-MM-DD") from None
    list_row = store.list_(list_name)
    day = date or rhythm.list_date(config, list_row, now)
    existing = store.find_edition(list_row.id, day)
    if existing and store.send_counts(existing.id).total:
        return _report(store, existing.id, frozen=True)
    if existing and existing.approved_at:
        # what the editor approved is what goes: a new ranking would change it behind their back
        return _report(store, existing.id, frozen=True)
    latest = store.latest_sent_date(list_row.id)
    if date is None and latest is not None and latest > day:
        # the clock (or the timezone) moved back: "today" is a day the list is past; a new edition for it would
        # reach everyone a second time
        raise NothingToSendError(
            f"'{list_name}' already had its edition of {latest}, later than today's date by the clock ({day},"
            f" timezone {rhythm.list_zone(config, list_row)}): the clock or the timezone moved back; nothing built."
            " Pass --date to build an earlier edition on purpose"
        )
    # the desk shows more runners-up than `rank --explain` keeps by default: they are what a story is swapped for
    base = rank_settings(config, list_row)
    settings = replace(base, runners_up=max(base.runners_up, desk.RUNNERS_UP))
    result: RankResult = rank(store, settings, now, list_row, date=day)
    wanted = max(config.settings.rank.min_stories, 1) if config.settings.rank.skip_when_nothing_new else 1
    if len(result.picked) < wanted:
        if result.advice:  # the window is empty: the bar is not what to change
            raise NothingToSendError(f"nothing new for '{list_name}' on {day}: {result.advice}")
        raise NothingToSendError(
            f"nothing new for '{list_name}' on {day}: {len(result.picked)} new stories cleared the bar, at least"
            f" {wanted} wanted; collect more sources, or lower [rank] min_stories or min_score"
        )
    stories = [
        store.story(r.story_id).as_dict() | {"rank": 0, "score": r.score, "why": r.why, "also": r.also}
        for r in result.picked
    ]
    picked = result.picked
    runners = [(r, store.story(r.story_id).as_dict()) for r in result.runners_up]
    warnings: list[str] = []
    # the subject a rebuild starts from is the kept one; rendering (once) writes the subject of what it renders
    subject, preheader = (existing.subject, existing.preheader) if existing else ("", "")
    try:
        edition_id, _ = _freeze_and_render(
            store, config, list_row.id, day, subject, preheader, now, picked, stories, runners
        )
    except TemplateError:
        # one story's text must not stop the edition: find the stories that cannot render on their own
        bad = [i for i, s in enumerate(stories) if not _renders(config, list_row, day, s)]
        if not bad or len(bad) == len(stories):
            raise  # the template itself is at fault
        for i in bad:
            warnings.append(f"story {stories[i]['id']} ({stories[i]['title'][:60]!r}) left out: it does not render")
        stories = [s for i, s in enumerate(stories) if i not in bad]
        picked = [r for i, r in enumerate(picked) if i not in bad]
        edition_id, _ = _freeze_and_render(
            store, config, list_row.id, day, subject, preheader, now, picked, stories, runners
        )
    report = _report(store, edition_id)
    report.warnings = warnings
    return report


def confirmed(store: Store, config: Config, edition_id: int) -> Callable[[], Rendered]:
    """What a send calls once it holds the edition's lock: the approval checked again and the rendering as the
    edition now stands (kept, so no compile unless the desk changed it after it was built)."""

    def again() -> Rendered:
        desk.check_approved(store, edition_id)
        return render_edition(store, config, edition_id)

    return again


def rank_settings(config: Config, list_row: MailingList) -> RankSettings:
    """``[rank]`` as the list's edition uses it: a weekly list ranks over the week (a window of at least 7 days);
    what its earlier editions already sent stays out by the history rule, as for a daily list."""
    settings = config.settings.rank
    if list_row.weekday and settings.window_hours < WEEK_HOURS:
        return replace(settings, window_hours=WEEK_HOURS)
    return settings


def _build_waiting(store: Store, config: Config, name: str, now: datetime, wait_s: float | None) -> BuildReport:
    """:func:`build_edition`, waiting (as the send would, up to ``wait_s`` or ``[send] lock_timeout``) while another
    process holds the edition's send lock: it may be sending it right now."""
    wait = config.settings.send.lock_timeout if wait_s is None else wait_s
    deadline = time.monotonic() + max(wait, 0.0)
    while True:
        try:
            return build_edition(store, config, name, now=now)
        except LockedError:
            if time.monotonic() >= deadline:
                raise
            time.sleep(0.2)


def _freeze_and_render(
    store: Store,
    config: Config,
    list_id: int,
    day: str,
    subject: str,
    preheader: str,
    now: datetime,
    picked: list[Ranked],
    stories: Rows,
    runners: list[tuple[Ranked, dict[str, Any]]] | None = None,
) -> tuple[int, Rendered]:
    """Freeze the edition, replay the editor's changes on it, and render it once (the artefact send and the web
    copy reuse), in one transaction: an edition that does not render is not left behind half-built."""
    with store.transaction(immediate=True):
        edition_id = store.freeze_edition(list_id, day, subject, preheader, iso(now) or "", picked, stories)
        # one that started sending, or was approved, in the meantime is kept as it is
        if not store.send_counts(edition_id).total and not store.edition(edition_id).approved_at:
            store.drop_variants(edition_id)  # rebuilt (nothing was sent from it): its variants are built anew
            store.keep_ranking(edition_id, desk.ranking_of(picked, stories, runners or []))
            if store.edition_changes(edition_id):
                desk.replay(store, edition_id)
        return edition_id, render_edition(store, config, edition_id)


def _renders(config: Config, list_row: MailingList, day: str, story: dict[str, Any]) -> bool:
    try:
        render_context(config, make_context(config, list_row, 0, day, [story]))
    except TemplateError:
        return False
    return True


def _report(store: Store, edition_id: int, frozen: bool = False) -> BuildReport:
    edition = store.edition(edition_id)
    return BuildReport(
        edition_id,
        edition.list,
        edition.date,
        edition.subject,
        store.edition_stories(edition_id),
        frozen,
        approved=edition.approved_at,
    )


@dataclass(frozen=True)
class Awaiting:
    """An edition built and held for the editor's approval: the commands that look at it and approve it."""

    approve: str  # the command that approves it (the next run sends it)
    show: str  # the command that shows it, with why each story is in
    desk: str  # the command that opens the desk in a browser

    @classmethod
    def of(cls, name: str, day: str) -> Awaiting:
        where = f"--list {name} --date {day}"
        return cls(f"digest edition approve {where}", f"digest edition show {where}", f"digest preview {where}")


@dataclass
class ListRun:
    """One list's part of a run: its edition built and sent, skipped (nothing new), an error, or not begun."""

    list: str
    edition: int | None = None
    date: str | None = None
    sent: SendReport | None = None  # set once the send ran (whatever it managed)
    web_copy: Path | None = None
    skipped: str | None = None  # why nothing was built
    not_due: str | None = None  # a list with a send time or a weekday whose moment has not come: why
    error: str | None = None  # why it was not built or not sent
    halted: bool = False  # the run was asked to stop before this list began
    awaiting: Awaiting | None = None  # built and held: the list sends only an edition the editor approved

    @property
    def outcome(self) -> str:
        """The list's part in a few words (what ``digest doctor`` shows of the last run)."""
        sent = self.sent
        if self.halted:
            return "stopped before it began"
        if self.skipped is not None:
            return "nothing new"
        if self.awaiting is not None:
            return f"edition {self.edition}: waiting for approval, nothing sent"
        if self.not_due is not None:
            return "not due yet"
        if self.error is not None or sent is None:
            return f"error: {self.error}"
        if sent.dry_run:
            return f"edition {self.edition}: dry run, would send to {sent.sent}"
        stopped = ", stopped early" if sent.halted else ""
        return f"edition {self.edition}: sent {sent.sent}, failed {sent.failed}, unknown {sent.unknown}{stopped}"

    @property
    def partial(self) -> bool:
        """Some of the list's readers are still owed the edition, or may have it (unknown)."""
        sent = self.sent
        return self.halted or (sent is not None and bool(sent.unknown or sent.failed or sent.halted))

    def as_dict(self) -> dict[str, Any]:
        """One entry of ``run --json``'s ``lists``: only the keys that say what happened to the list."""
        out: dict[str, Any] = {"list": self.list}
        if self.halted:
            return out | {"halted": True}
        if self.skipped is not None:
            return out | {"skipped": self.skipped}
        if self.not_due is not None:
            return out | {"not_due": self.not_due}
        if self.edition is not None:
            out |= {"edition": self.edition, "date": self.date}
        if self.awaiting is not None:
            web_copy = {"web_copy": str(self.web_copy)} if self.web_copy else {}
            return out | {"awaiting_approval": asdict(self.awaiting)} | web_copy
        if self.error is not None or self.sent is None:
            return out | {"error": self.error}
        return out | self.sent.as_dict() | {"web_copy": str(self.web_copy) if self.web_copy else None}


@dataclass(frozen=True)
class FailingSource:
    """A source that failed this run, and since when it has been failing (what a cron log must say)."""

    name: str
    since: str | None  # its last success (None: it never worked)
    failures: int  # runs in a row
    error: str | None

    def line(self) -> str:
        since = f"failing since {self.since}" if self.since else "never collected successfully"
        runs = f"{self.failures} run(s) in a row" if self.failures else "this run"
        return f"source '{self.name}' {since} ({runs}): {self.error}"


def failing_sources(store: Store, report: CollectReport) -> list[FailingSource]:
    """The sources that failed in ``report``, with their last success and failures in a row from the store."""
    by_name = {s.name: s for s in store.sources()}
    out = []
    for result in report.sources:
        if result.error:
            row = by_name.get(result.name)
            out.append(
                FailingSource(
                    result.name,
                    row.last_success_at if row else None,
                    row.consecutive_failures if row else 0,
                    result.error,
                )
            )
    return out


@dataclass
class RunReport:
    """What one ``digest run`` did: the collection, each list's part, and earlier editions still owing someone."""

    collect: CollectReport
    lists: list[ListRun] = field(default_factory=list)
    unfinished: list[UnfinishedEdition] = field(default_factory=list)
    failing: list[FailingSource] = field(default_factory=list)  # sources that failed this run

    @property
    def exit_code(self) -> int:
        """0 done (an edition held for approval is not an error), 1 a list could not be sent (an error to fix),
        3 partly done."""
        if any(item.error for item in self.lists):
            return 1
        return 3 if self.collect.failed or any(item.partial for item in self.lists) else 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "collect": self.collect.as_dict(),
            "failing_sources": [asdict(f) for f in self.failing],
            "lists": [item.as_dict() for item in self.lists],
            "unfinished": [asdict(u) for u in self.unfinished],
            "exit_code": self.exit_code,
        }


def run(
    store: Store,
    config: Config,
    *,
    now: datetime | None = None,
    provider: str | None = None,
    dry_run: bool = False,
    retry_unknown: bool = False,
    wait_s: float | None = None,
    halt: threading.Event | None = None,
    on_event: Callable[[str], None] | None = None,
    on_error: Callable[[str], None] | None = None,
    on_progress: Callable[[str, int, int | None], None] | None = None,
) -> RunReport:
    """Collect, then build and send the edition of every list; one line in ``digest.log`` and one row in the
    store's ``runs`` per run.

    ``on_event`` gets one line per step; ``on_error`` (default: ``on_event``) the provider's first errors
    and each failing source; ``on_progress(step, done, total)`` each step as it advances: ``collecting``, then
    per list ``building NAME`` and ``sending NAME`` (first with ``done`` 0 and its expected total, so a bar or a
    log line can give the rate and the time left).

    A list whose edition cannot be built (a template error) or sent (another process is sending it,
    the provider refused the key) is reported with its ``error`` and the other lists still go; the
    run then exits 1.
    """
    now = now or clock.now()
    say = on_event or (lambda _msg: None)
    tell_error = on_error or say
    run_id = store.start_run(iso(clock.wall()))
    try:
        count = len(store.sources())
        stored = (lambda _r: on_progress("collecting", 1, count)) if on_progress else None
        report = RunReport(collect=collect(store, config, now=now, progress=stored))
    except BaseException as exc:
        if isinstance(exc, DigestError):
            _log_failure(config, now, str(exc))
        _record(store, run_id, now, None, str(exc) or type(exc).__name__)
        raise
    say(
        f"collected: {report.collect.new} new, {report.collect.updated} updated, "
        f"{report.collect.failed} source(s) failed"
    )
    report.failing = failing_sources(store, report.collect)
    for failing in report.failing:
        tell_error(failing.line())
    if not store.lists():
        say("no lists yet: create one with 'digest lists add NAME' and add subscribers to it")
    if (warning := config.local_links_warning(provider)) and not dry_run:
        tell_error(warning)
    try:
        for list_row in store.lists():
            name = list_row.name
            today = rhythm.list_date(config, list_row, now)
            week_ago = (date_type.fromisoformat(today) - timedelta(days=7)).isoformat()
            # never silently: recipients an earlier edition still owes are said every run, for a week
            for left in store.unfinished_editions(list_row.id, today, week_ago):
                report.unfinished.append(left)
                tell_error(
                    f"{name}: edition {left.edition} of {left.date} still has {left.failed} failed"
                    f" and {left.unknown} unknown recipients: 'digest send --list {name} --date"
                    f" {left.date}' retries the failed (add --retry-unknown for the unknown)"
                )
            if halt is not None and halt.is_set():
                report.lists.append(ListRun(name, halted=True))
                continue
            try:
                if on_progress:
                    on_progress(f"building {name}", 0, 1)
                editions = _editions_now(store, config, list_row, now, wait_s)
                if on_progress:
                    on_progress(f"building {name}", 1, 1)
            except NotDueError as exc:
                report.lists.append(ListRun(name, not_due=str(exc)))
                say(f"{name}: not yet, {exc}")
                continue
            except NothingToSendError as exc:
                report.lists.append(ListRun(name, skipped=str(exc)))
                say(f"{name}: skipped, {exc}")
                continue
            except DigestError as exc:  # e.g. a template error in this list's edition: the others still go
                report.lists.append(ListRun(name, error=str(exc)))
                say(f"{name}: not built: {exc}")
                continue
            for built, due in editions:
                for warning in built.warnings:
                    say(f"{name}: warning: {warning}")
                if list_row.require_approval and not built.approved and not store.send_counts(built.edition).total:
                    # held until the editor approves it: built (re-ranked each run, their changes kept), never sent
                    held = Awaiting.of(name, built.date)
                    try:
                        web_copy = write_web_copy(store, config, built.edition)
                    except DigestError as exc:
                        report.lists.append(ListRun(name, built.edition, built.date, error=str(exc)))
                        say(f"{name}: edition {built.edition} not rendered: {exc}")
                        continue
                    report.lists.append(ListRun(name, built.edition, built.date, web_copy=web_copy, awaiting=held))
                    say(
                        f"{name}: edition {built.edition} of {built.date} is waiting for approval, nothing sent:"
                        f" approve it with '{held.approve}' (look first: '{held.show}', or the desk: '{held.desk}')"
                    )
                    continue
                try:
                    rendered = render_edition(store, config, built.edition)  # kept at build: no compile here
                    sent: SendReport = send_edition(
                        store,
                        config,
                        built.edition,
                        rendered,
                        provider=provider,
                        dry_run=dry_run,
                        retry_unknown=retry_unknown,
                        wait_s=wait_s,
                        halt=halt,
                        progress=_sending(on_progress, name),
                        due=due,
                        expect=_expecting(on_progress, name),
                        variants=EditionVariants(store, config, built.edition),
                        confirm=confirmed(store, config, built.edition),
                    )
                except DigestError as exc:
                    report.lists.append(ListRun(name, built.edition, built.date, error=str(exc)))
                    say(f"{name}: edition {built.edition} not sent: {exc}")
                    continue
                web_copy = write_web_copy(store, config, built.edition, rendered)
                report.lists.append(ListRun(name, built.edition, built.date, sent=sent, web_copy=web_copy))
                for error in sent.errors[:10]:
                    tell_error(f"{name}: provider said: {error}")
                for note in sent.notes:
                    say(f"{name}: {note}")
                double = bool(list_row.double_opt_in)
                say(send_summary(name, built.edition, built.date, sent, double, list_row.send_at))
        _fold_old_editions(store, config, today, now, say)
    except BaseException as exc:
        _log(config, now, report, error=str(exc) or type(exc).__name__)
        _record(store, run_id, now, report, str(exc) or type(exc).__name__)
        raise
    _log(config, now, report)
    _record(store, run_id, now, report)
    return report


class NotDueError(NothingToSendError):
    """A list with a send time or a weekday whose moment has not come: nothing to build or send yet."""


def _editions_now(
    store: Store, config: Config, list_row: MailingList, now: datetime, wait_s: float | None
) -> list[tuple[BuildReport, Due | None]]:
    """The editions ``digest run`` sends of the list at ``now``, each with the readers it goes to (None: all owed).

    A list without a send time: today's (list's zone), built if need be, to everyone owed it; a weekly one only
    on its weekday. A list with a send time (:func:`rhythm.plan`): today's edition is built once (never rebuilt
    that day) when its first reader is due or its own send time comes; each due reader gets the edition of their
    local day, usually today's, yesterday's for readers whose send time came before the list's day began.
    """
    zone = rhythm.list_zone(config, list_row)
    weekly = NotDueError(f"a weekly list: its editions are built and sent on {list_row.weekday}s ({zone})")
    plan = rhythm.plan(store, config, list_row, now)
    if plan is None:
        if not rhythm.is_its_day(config, list_row, now):
            raise weekly
        return [(_build_waiting(store, config, list_row.name, now, wait_s), None)]
    nothing: NothingToSendError | None = None
    if plan.build and store.find_edition(list_row.id, plan.today) is None:
        try:
            _build_waiting(store, config, list_row.name, now, wait_s)
        except NothingToSendError as exc:
            nothing = exc
    out: list[tuple[BuildReport, Due | None]] = []
    for day, due in sorted(plan.due.items()):
        found = store.find_edition(list_row.id, day)
        if found is not None:
            out.append((_report(store, found.id, frozen=bool(store.send_counts(found.id).total)), due))
    if out:
        return out
    if nothing is not None:
        raise nothing
    if not plan.due:
        raise NotDueError(f"nobody's {list_row.send_at} has come yet ({plan.waiting} waiting; the list's zone: {zone})")
    if not rhythm.is_its_day(config, list_row, now):
        raise weekly
    days = ", ".join(sorted(plan.due))
    raise NotDueError(f"no edition of {days} ({zone}) for the readers due now; they get the next one")


def _fold_old_editions(store: Store, config: Config, today: str, now: datetime, say: Callable[[str], None]) -> None:
    """Retention: editions older than [store] retention_days keep their counts, not their per-reader rows."""
    days = config.settings.store.retention_days
    if days <= 0:
        return
    before = (date_type.fromisoformat(today) - timedelta(days=days)).isoformat()
    freed = store.fold_editions(before, iso(now))
    if freed.editions:
        say(
            f"retention: {freed.editions} edition(s) before {before} folded into their counts"
            f" ({freed.sends} ledger and {freed.events} event rows removed)"
        )


def _expecting(on_progress: Callable[[str, int, int | None], None] | None, name: str) -> Callable[[int], None] | None:
    if on_progress is None:
        return None
    return lambda owed: on_progress(f"sending {name}", 0, owed)


def _sending(on_progress: Callable[[str, int, int | None], None] | None, name: str) -> Callable[[int], None] | None:
    if on_progress is None:
        return None
    return lambda n: on_progress(f"sending {name}", n, None)  # the total came first, through ``expect``


def send_summary(name: str, edition: int, day: str, sent: SendReport, double_opt_in: bool, send_at: str = "") -> str:
    """The one line ``digest run`` prints for a list's send: what really happened, never more."""
    line = _send_line(name, edition, day, sent, double_opt_in)
    if sent.waiting:
        line += f"; {sent.waiting} wait for their local {send_at or 'send time'}"
    return line


def _send_line(name: str, edition: int, day: str, sent: SendReport, double_opt_in: bool) -> str:
    head = f"{name}: edition {edition} of {day}"
    if sent.dry_run:
        line = f"{head}: would send to {sent.sent} (dry run, nothing sent), skipped {sent.skipped} (already had it)"
        return line + (f", unknown {sent.unknown} held back" if sent.unknown else "")
    if sent.sent or sent.failed or sent.unknown:
        line = f"{head}: sent {sent.sent}, failed {sent.failed}, unknown {sent.unknown}"
        if sent.skipped:
            line += f", skipped {sent.skipped} (already had it)"
        if sent.paused:
            line += f", paused {sent.paused}"
        if sent.variants:
            line += f" ({sent.variants} variant(s) for readers' topics or weekly)"
        if sent.weekly:
            line += f", {sent.weekly} weekly reader(s) wait for their day"
        if sent.unknown:
            line += "; unknown recipients may or may not have got it ('digest run --retry-unknown' re-sends them once)"
        return line
    if sent.halted:
        return f"{head}: stopped before sending anyone; run again to send it"
    if sent.waiting:
        return f"{head}: nobody due now; sent to {sent.skipped} so far"
    if sent.skipped:
        return f"{head} already went to everyone; nothing sent"
    who = "no confirmed subscribers" if double_opt_in else "no subscribers"
    return f"nobody on '{name}' is owed edition {edition} ({who})"


def write_web_copy(store: Store, config: Config, edition_id: int, rendered: Rendered | None = None) -> Path:
    """The edition as a browser shows it (``outbox/edition-N.html``), for a look before or after sending."""
    rendered = rendered or render_edition(store, config, edition_id)
    html, _ = rendered.fill(web_values(config, edition_id))
    path = config.outbox_dir / f"edition-{edition_id}.html"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(html, encoding="utf-8")
    return path


def _log(config: Config, now: datetime, report: RunReport, error: str | None = None) -> None:
    """One JSON line per run in ``digest.log`` (what cron's runs left behind)."""
    line: dict[str, Any] = {
        "at": iso(clock.wall()),
        "now": iso(now),
        "pid": os.getpid(),
        "exit_code": 1 if error else report.exit_code,
        "collect": {k: v for k, v in report.collect.as_dict().items() if k != "sources"},
        "failed_sources": [s.name for s in report.collect.sources if s.error],
        "lists": [{k: v for k, v in entry.as_dict().items() if k != "errors"} for entry in report.lists],
    }
    if error:
        line["error"] = error
    _append_log(config, line)


def _record(store: Store, run_id: int, now: datetime, report: RunReport | None, error: str | None = None) -> None:
    """The run's row in ``runs``: when it ended, its exit code, each list's outcome."""
    summary = RunSummary(
        now=iso(now),
        new=report.collect.new if report else 0,
        failed_sources=report.collect.failed if report else 0,
        lists={item.list: item.outcome for item in report.lists} if report else {},
        error=error,
    )
    exit_code = 1 if error or report is None else report.exit_code
    # bookkeeping never changes a run's outcome: a store that cannot take the row leaves the run unfinished there
    with contextlib.suppress(sqlite3.Error):
        store.finish_run(run_id, iso(clock.wall()), exit_code, summary)


def _log_failure(config: Config, now: datetime, error: str) -> None:
    _append_log(config, {"at": iso(clock.wall()), "now": iso(now), "pid": os.getpid(), "exit_code": 1, "error": error})


def _append_log(config: Config, line: dict[str, Any]) -> None:
    with config.log_path.open("a", encoding="utf-8") as fh:
        fh.write(json.dumps(line, ensure_ascii=False, default=str) + "\n")
