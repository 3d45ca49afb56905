"""The public API: one newsletter's home, and everything digest does to it.

``Newsletter.open(home)`` reads ``digest.toml`` (and ``DIGEST_*``) and opens the store; its methods
are the pipeline's steps. The CLI and the web app are clients of this class, as a script is::

    from digest import Newsletter

    with Newsletter.open("~/my-digest") as news:
        news.collect()
        edition = news.build()
        news.send(edition.edition, provider="outbox")

Every argument that names a list defaults to ``default_list`` of ``digest.toml``; every "now" defaults
to :func:`digest.clock.now`. The stage modules are imported when a method first needs them, so that
opening a newsletter (and the CLI commands that only read settings) stays fast: a deliberate fast path.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date as date_type
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from digest import clock
from digest.config import Config, load
from digest.errors import ConfigError, NotFoundError
from digest.store import Store

if TYPE_CHECKING:
    import threading

    from digest.collect import CollectReport
    from digest.health import SourceHealth
    from digest.home import InitReport
    from digest.models import Draft, EditionStats, MailingList, Rendered, Source, StoryClicks
    from digest.pipeline import BuildReport, RunReport
    from digest.rank import RankResult
    from digest.render.archive import ArchiveReport
    from digest.send import SendReport
    from digest.subscribers import Subscribed
    from digest.subscribers.importer import ImportReport


COPY_FORMATS = ("html", "text", "eml", "mjml")


class Newsletter:
    """A newsletter's home (``digest.toml``, ``digest.db``, ``outbox/``) and what can be done with it."""

    def __init__(self, store: Store, config: Config) -> None:
        self.config = config
        self.store = store

    # -- opening -------------------------------------------------------------------------
    @classmethod
    def open(cls, home: str | Path | None = None) -> Newsletter:
        """The newsletter in ``home`` (default: ``DIGEST_HOME``, else the current directory); it must exist."""
        config = load(Path(home).expanduser() if home is not None else None)
        return cls(Store(config.db_path, create=False), config)

    @classmethod
    def init(
        cls, home: str | Path | None = None, *, example: bool = False, name: str = "My Digest", address: str = ""
    ) -> Newsletter:
        """Create the home (safe to repeat) and open it; ``example`` adds sample sources, a list and readers."""
        cls.create(home, example=example, name=name, address=address)
        return cls.open(home)

    @staticmethod
    def create(
        home: str | Path | None = None, *, example: bool = False, name: str = "My Digest", address: str = ""
    ) -> InitReport:
        """Create ``digest.toml`` and the store in ``home``; what was made. ``address``: the postal address
        for the footer (none is made up: real providers refuse to send without one)."""
        from digest.home import init_home

        home_path = Path(home).expanduser() if home is not None else None
        return init_home(home_path, example=example, name=name, address=address)

    def close(self) -> None:
        self.store.close()

    def __enter__(self) -> Newsletter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def home(self) -> Path:
        return self.config.home

    def list_name(self, given: str | None = None) -> str:
        """``given``, or the configured default list."""
        return given or self.config.settings.default_list

    # -- stories ---------------------------------------------------------------------------
    def add_source(
        self,
        location: str,
        *,
        name: str | None = None,
        weight: float = 1.0,
        tags: list[str] | None = None,
        title: str = "",
    ) -> Source:
        """Add a feed URL, a feed or article file, or a folder of them; nothing is fetched until :meth:`collect`."""
        from digest.collect import add_source

        return add_source(self.store, location, name=name, weight=weight, tags=tags, title=title)

    def collect(self, locations: list[str] | None = None, *, now: datetime | None = None) -> CollectReport:
        """Fetch every source (or only ``locations``: files, folders or URLs) into the store."""
        from digest.collect import collect

        return collect(self.store, self.config, locations, now=now or clock.now())

    def rank(
        self,
        list_name: str | None = None,
        *,
        now: datetime | None = None,
        limit: int | None = None,
        date: str | None = None,
    ) -> RankResult:
        """What the list's edition for ``date`` (default: ``now``'s date in the list's timezone) would hold
        as of ``now``; writes nothing. Without ``list_name``, the default list if it exists, else no list."""
        from digest.pipeline import local_date, rank_settings
        from digest.rank import rank
        from digest.send.rhythm import list_date

        when = now or clock.now()
        list_row = self.store.list_(list_name) if list_name else self.store.find_list(self.list_name())
        if list_row is None:
            day = date or local_date(self.config, when)
            return rank(self.store, self.config.settings.rank, when, None, limit=limit, date=day)
        day = date or list_date(self.config, list_row, when)
        return rank(self.store, rank_settings(self.config, list_row), when, list_row, limit=limit, date=day)

    def pick_story(self, story_id: int, pick: str | None, list_name: str | None = None) -> str:
        """Pin (``"pin"``: it gets ``[rank] pin_boost`` and stays a candidate however old) or drop (``"drop"``: its
        event stays out) a story for the list's editions to come, or clear either (``None``). Each list has its own
        (default: the default list). Returns the list's name."""
        if pick not in ("pin", "drop", None):
            raise ConfigError(f"a story is pinned ('pin') or dropped ('drop'), not {pick!r}")
        list_row = self.store.list_(self.list_name(list_name))
        self.store.set_pick(list_row.id, story_id, pick)
        return list_row.name

    def list_picks(self, list_name: str | None = None) -> dict[int, str]:
        """``story_id -> "pin" | "drop"``: the stories pinned and dropped for the list (default: the default list)."""
        return self.store.list_picks(self.store.list_(self.list_name(list_name)).id)

    # -- editions --------------------------------------------------------------------------
    def build(
        self, list_name: str | None = None, *, date: str | None = None, now: datetime | None = None
    ) -> BuildReport:
        """Rank and freeze the list's edition for ``date`` (default: today in the list's timezone)."""
        from digest.pipeline import build_edition

        return build_edition(self.store, self.config, self.list_name(list_name), date=date, now=now or clock.now())

    def edition(self, list_name: str | None = None, date: str | None = None, *, latest: bool = False) -> int:
        """The id of the list's edition for ``date`` (default: today in the list's timezone, or with
        ``latest`` the newest one); :class:`NotFoundError` saying how to build it when there is none."""
        from digest.send.rhythm import list_date

        if date is not None:
            try:
                date_type.fromisoformat(date)
            except ValueError:
                raise ConfigError(f"--date {date!r} is not a date; use YYYY-MM-DD") from None
        list_row = self.store.list_(self.list_name(list_name))
        day = date if date is not None or latest else list_date(self.config, list_row, clock.now())
        found = self.store.find_edition(list_row.id, day)
        if found is None:
            when = f" for {day}" if day else ""
            hint = " (or pass --date)" if date is None and not latest else ""
            build = "digest build" if list_row.name == self.list_name() else f"digest build --list {list_row.name}"
            raise NotFoundError(f"no edition of '{list_row.name}'{when}: run '{build}'{hint}")
        return found.id

    # -- the editor's desk (digest/desk.py): each change is recorded, survives a rebuild, and returns the new Draft
    def draft(self, edition_id: int) -> Draft:
        """The edition as the editor's desk shows it: its stories with their score parts, the runners-up and why
        each lost, the subject and preheader (as sent and as the templates made them), changes, approval."""
        from digest import desk

        return desk.draft(self.store, self.config, edition_id)

    def drop_story(self, edition_id: int, story_id: int) -> Draft:
        """Take a story out of the edition (it stays out when the edition is rebuilt)."""
        return self._desk(edition_id, "drop", story_id=story_id)

    def swap_story(self, edition_id: int, story_id: int, runner_up_id: int) -> Draft:
        """Put a runner-up (or any stored story) in a story's place."""
        return self._desk(edition_id, "swap", story_id=story_id, **{"with": runner_up_id})

    def move_story(self, edition_id: int, story_id: int, *, up: bool | None = None, to: int | None = None) -> Draft:
        """Move a story one place up (``up=True``) or down (``up=False``), or to position ``to`` (1 is the lead)."""
        from digest import desk

        if (up is None) == (to is None):
            raise ConfigError("move a story either up or down (up=True/False) or to a position (to=N), not both")
        if to is None:
            current = desk.draft(self.store, self.config, edition_id).story(story_id)
            if current is None or current.rank is None:
                return self._desk(edition_id, "move", story_id=story_id, to=0)  # refused, naming the edition's ids
            to = current.rank - 1 if up else current.rank + 1
        return self._desk(edition_id, "move", story_id=story_id, to=to)

    def pin_story(self, edition_id: int, story_id: int) -> Draft:
        """Pin a story in this edition: it stays in (at its place) when the edition is rebuilt; a runner-up is
        brought in."""
        now = self.draft(edition_id)
        current = now.story(story_id)
        return self._desk(edition_id, "pin", story_id=story_id, rank=current.rank if current else len(now.stories) + 1)

    def edit_story(
        self, edition_id: int, story_id: int, *, title: str | None = None, blurb: str | None = None
    ) -> Draft:
        """Change a story's title or blurb (its summary) in this edition only; the ranked ones are kept beside."""
        return self._desk(edition_id, "edit", story_id=story_id, title=title, blurb=blurb)

    def edit_edition(self, edition_id: int, *, subject: str | None = None, preheader: str | None = None) -> Draft:
        """Write the edition's subject or preheader yourself (``""`` goes back to the templates')."""
        return self._desk(edition_id, "edit_edition", subject=subject, preheader=preheader)

    def approve_edition(self, edition_id: int, by: str = "cli", *, seen: str | None = None) -> Draft:
        """Approve the edition: a list with ``require_approval`` sends it at the next ``digest run``. Any later
        change clears the approval. ``seen``: the :attr:`Draft.fingerprint` the editor looked at; the approval is
        refused if the edition is something else by now."""
        return self._desk(edition_id, "approve", by=by, seen=seen)

    def reset_edition(self, edition_id: int) -> Draft:
        """Forget every change made on the desk (and the approval): the edition as ranked."""
        from digest import desk

        return desk.reset(self.store, self.config, edition_id)

    def _desk(self, edition_id: int, action: str, **args: Any) -> Draft:
        from digest import desk

        return desk.change(self.store, self.config, edition_id, action, args)

    def render(self, edition_id: int) -> Rendered:
        """The edition's rendered artefact (subject, preheader, HTML and text with per-reader placeholders): the one
        kept in the store while templates and content are unchanged, else rendered once and kept."""
        from digest.render import render_edition

        return render_edition(self.store, self.config, edition_id)

    def copy(self, edition_id: int, *, fmt: str = "html", email: str | None = None) -> bytes:
        """The edition as ``email`` gets it (their own links), or as the web version shows it.

        ``fmt``: ``html``, ``text``, ``eml`` (the whole message) or ``mjml`` (the template's MJML, uncompiled).
        """
        from digest import tokens
        from digest.send import edition_mail, recipient, web_values
        from digest.send.message import build_message
        from digest.send.providers.base import Recipient

        if fmt not in COPY_FORMATS:
            raise ConfigError(f"format {fmt!r} is not one of {', '.join(COPY_FORMATS)}")
        rendered = self.render(edition_id)
        if fmt == "mjml":
            return rendered.mjml.encode("utf-8")
        mail = edition_mail(self.store, self.config, edition_id, rendered)
        if email:
            who = self.store.subscriber(email)
            reader = recipient(self.config, tokens.signing_key(self.store), mail, who.id, who.email, who.name)
        else:
            reader = Recipient(0, "subscriber@example.com", "", web_values(self.config, edition_id))
        if fmt == "eml":
            return bytes(build_message(mail, reader, "digest.local"))
        html, text = rendered.fill(reader.values)
        return (html if fmt == "html" else text).encode("utf-8")

    def write_archive(
        self, out: str | Path, list_name: str | None = None, *, progress: Callable[[int, int], None] | None = None
    ) -> ArchiveReport:
        """Write the static web archive into the folder ``out``: every edition sent to at least one reader (of
        ``list_name``, or of every list), each list's page and Atom feed; ``progress(done, of)`` per page."""
        from digest.render.archive import write_archive
        from digest.send import web_values

        list_id = self.store.list_(list_name).id if list_name else None
        return write_archive(
            self.store,
            self.config,
            Path(out).expanduser(),
            lambda eid: web_values(self.config, eid),
            list_id,
            progress=progress,
        )

    def send(
        self,
        edition_id: int,
        *,
        provider: str | None = None,
        dry_run: bool = False,
        retry_unknown: bool = False,
        wait_s: float | None = None,
        halt: threading.Event | None = None,
        progress: Callable[[int], None] | None = None,
        expect: Callable[[int], None] | None = None,
    ) -> SendReport:
        """Send the edition to everyone on its list who is owed it, exactly once each.

        ``progress(n)`` hears of each batch's recipients, ``expect(n)`` first of about how many there will be;
        setting ``halt`` stops starting batches. An edition of a list that requires approval goes only once
        approved (a dry run or a test copy needs none)."""
        from digest import desk
        from digest.pipeline import confirmed
        from digest.send import send_edition
        from digest.variants import EditionVariants

        if not dry_run:
            desk.check_approved(self.store, edition_id)

        return send_edition(
            self.store,
            self.config,
            edition_id,
            self.render(edition_id),
            provider=provider,
            dry_run=dry_run,
            retry_unknown=retry_unknown,
            wait_s=wait_s,
            progress=progress,
            halt=halt,
            expect=expect,
            variants=EditionVariants(self.store, self.config, edition_id),
            confirm=None if dry_run else confirmed(self.store, self.config, edition_id),
        )

    def send_test(self, edition_id: int, to: str, *, provider: str | None = None, dry_run: bool = False) -> SendReport:
        """One copy marked [TEST] to ``to`` (a checked address), recorded nowhere."""
        from digest.send import send_test
        from digest.subscribers import normalize_email

        address = normalize_email(to)
        rendered = self.render(edition_id)  # kept at build: compiles only if the templates changed
        return send_test(self.store, self.config, edition_id, rendered, address, provider, dry_run=dry_run)

    def run(
        self,
        *,
        now: datetime | None = None,
        provider: str | None = None,
        dry_run: bool = False,
        retry_unknown: bool = False,
    ) -> RunReport:
        """Collect, then build and send every list's edition: what cron runs. Safe to repeat."""
        from digest import pipeline

        return pipeline.run(
            self.store,
            self.config,
            now=now or clock.now(),
            provider=provider,
            dry_run=dry_run,
            retry_unknown=retry_unknown,
        )

    # -- figures ---------------------------------------------------------------------------
    def edition_stats(self, edition_id: int | None = None) -> list[EditionStats]:
        """Per edition (or one): the ledger's counts, people per delivery event and tracked link clicks."""
        return self.store.edition_stats(edition_id)

    def story_clicks(self, edition_id: int) -> list[StoryClicks]:
        """Each story of the edition with its tracked clicks and rate (``[track] clicks``)."""
        return self.store.story_clicks(edition_id)

    # -- people ----------------------------------------------------------------------------
    def add_list(
        self,
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
        """Create a list; sender settings not given come from ``[sender]`` of digest.toml. ``title`` and
        ``description`` are what readers see (signup page, mails); ``language``: their BCP 47 tag.
        ``sources``/``tags`` restrict its stories; ``send_at`` (HH:MM) and ``timezone`` set its readers' hour,
        ``weekday`` makes it weekly; ``require_approval`` holds each edition for the editor's approval;
        ``public`` offers it on the signup page."""
        from digest import subscribers

        return subscribers.add_list(
            self.store,
            self.config,
            name,
            from_email=from_email,
            from_name=from_name,
            reply_to=reply_to,
            subject_prefix=subject_prefix,
            address=address,
            double_opt_in=double_opt_in,
            boost=boost,
            block=block,
            title=title,
            description=description,
            language=language,
            sources=sources,
            tags=tags,
            send_at=send_at,
            timezone=timezone,
            weekday=weekday,
            require_approval=require_approval,
            public=public,
        )

    def edit_list(
        self,
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
        """Change a list's settings (those given): sender, what readers see (``title``, ``description``) and
        ``double_opt_in``, and what :meth:`add_list` takes; the list and the names of what changed."""
        from digest import subscribers

        return subscribers.edit_list(
            self.store,
            name,
            from_email=from_email,
            from_name=from_name,
            reply_to=reply_to,
            subject_prefix=subject_prefix,
            address=address,
            title=title,
            description=description,
            double_opt_in=double_opt_in,
            language=language,
            sources=sources,
            tags=tags,
            send_at=send_at,
            timezone=timezone,
            weekday=weekday,
            require_approval=require_approval,
            public=public,
        )

    def subscribe(
        self,
        email: str,
        list_name: str | None = None,
        *,
        name: str = "",
        attributes: dict[str, Any] | None = None,
        status: str | None = None,
        force: bool = False,
        check_deliverability: bool = False,
        send_confirmation: bool = False,
        topics: list[str] | None = None,
        timezone: str | None = None,
    ) -> Subscribed:
        """Add one reader to a list under the import's consent rules: their status on it and, on a double
        opt-in list, the link that confirms them (``send_confirmation`` mails it to them through the provider,
        from ``templates/confirm.*``). ``force`` brings back someone who left (new consent only). ``topics``
        and ``timezone`` (IANA: when their morning is, for a list with a send time) go in their attributes."""
        from dataclasses import replace

        from digest import signup, subscribers

        added = subscribers.subscribe(
            self.store,
            self.config,
            email,
            self.list_name(list_name),
            name=name,
            attributes=attributes,
            status=status,
            force=force,
            check_deliverability=check_deliverability,
            topics=topics,
            timezone=timezone,
        )
        person = self.store.subscriber_by_id(added.id)
        if not send_confirmation or added.status != "unconfirmed" or person is None:
            return added
        sent = signup.send_mail(self.store, self.config, "confirm", person, self.store.list_(added.list), via="cli")
        mail = {"provider": sent.provider, "status": sent.status, "error": sent.error}
        return replace(added, confirm_url=sent.link, mail=mail)

    def import_subscribers(self, path: str | Path, list_name: str | None = None, *, kind: str = "auto") -> ImportReport:
        """Import a roster CSV (or another tool's export: ``kind``) into a list: good rows land, each bad one is
        reported with its line."""
        from digest.subscribers import import_csv

        return import_csv(self.store, Path(path), self.list_name(list_name), kind=kind)

    def source_health(self, *, now: datetime | None = None) -> SourceHealth:
        """Failing sources (last error, failing since their last success) and stale ones (nothing new lately)."""
        from digest import clock
        from digest.health import source_health

        return source_health(self.store, now or clock.now(), self.config.settings.collect.stale_days * 24)

    def unsubscribe(self, email: str, list_name: str | None = None) -> list[str]:
        """Take the reader off one list (or every list); the lists they left."""
        from digest import subscribers

        return subscribers.unsubscribe(self.store, email, list_name)


__all__ = ["Newsletter"]
