"""Plain records passed between the stages. No I/O; no behaviour beyond filling a rendered copy."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any, overload

from digest import placeholders

# A subscription's statuses (the store owns the rules; the CLI's help lists them without loading the store).
STATUSES = ("unconfirmed", "confirmed", "unsubscribed", "bounced", "complained")


@overload
def iso(dt: datetime) -> str: ...


@overload
def iso(dt: None) -> None: ...


def iso(dt: datetime | None) -> str | None:
    """The store's time format: UTC, seconds, ``2026-11-24T07:00:00+00:00``."""
    if dt is None:
        return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC).replace(microsecond=0).isoformat()


def parse_iso(value: str | None) -> datetime | None:
    if not value:
        return None
    dt = datetime.fromisoformat(value)
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


@dataclass
class StoryIn:
    """A story as collection produces it, before it has an id in the store."""

    title: str
    url: str | None = None
    guid: str | None = None
    author: str | None = None
    published_at: datetime | None = None
    summary: str = ""
    body_text: str = ""
    body_html: str = ""
    image_url: str | None = None
    tags: list[str] = field(default_factory=list)
    language: str | None = None
    comments: int | None = None
    engagement: dict[str, int] = field(default_factory=dict)
    fragment: str = ""  # the permalink's #fragment, kept only where it tells a feed's items apart


@dataclass
class ParsedDocument:
    """What one fetched or read document yielded."""

    stories: list[StoryIn]
    kind: str  # rss | atom | jsonfeed | html | text
    title: str | None = None
    warning: str | None = None  # set for a partial ingest of a broken document
    link: str | None = None  # the site's home page, when the document names it


@dataclass
class Ranked:
    """A story picked (or passed over) by the ranker, with the parts of its score."""

    story_id: int
    title: str
    url: str | None
    source: str | None
    score: float
    why: dict[str, Any]
    also: list[dict[str, Any]] = field(default_factory=list)
    picked: bool = True
    reason: str | None = None  # why a runner-up lost


@dataclass(frozen=True)
class Rendered:
    """An edition rendered once: what send, the web copy, preview and archive all reuse.

    ``html`` and ``text`` carry per-reader values as :mod:`digest.placeholders` tokens; :meth:`fill` makes one
    reader's copy. ``stamp`` says what it was rendered from (templates, frozen content, versions): the store
    keeps one per edition and a different stamp means render again. ``mjml`` is the uncompiled source
    (``digest render --format mjml``, strict validation).
    """

    subject: str
    preheader: str
    html: str
    text: str
    mjml: str = field(default="", repr=False, compare=False)
    stamp: str = field(default="", compare=False)
    # split once at the slots, so that a reader's copy is a few escaped values and a join (a benchmarked fast path)
    _html: placeholders.Parts = field(init=False, repr=False, compare=False)
    _text: placeholders.Parts = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_html", placeholders.parts(self.html))
        object.__setattr__(self, "_text", placeholders.parts(self.text))

    def fill(self, values: dict[str, str]) -> tuple[str, str]:
        """(html, text) for one reader; ``values`` maps slot names to raw strings (escaped here for the HTML)."""
        return placeholders.fill(self._html, values, escape=True), placeholders.fill(self._text, values, escape=False)


@dataclass(frozen=True, slots=True)
class Source:
    """A stored source: where stories come from, and how its last fetch went. Times are ISO strings."""

    id: int
    name: str
    location: str
    kind: str | None
    weight: float
    tags: tuple[str, ...]
    created_at: str
    etag: str | None = None
    last_modified: str | None = None
    content_hash: str | None = None
    last_attempt_at: str | None = None
    last_success_at: str | None = None
    last_error: str | None = None
    consecutive_failures: int = 0
    last_warning: str | None = None
    last_count: int | None = None
    title: str = ""  # the editor's display name ('' : the feed's own)
    feed_title: str = ""  # the feed's title (or the page's site name) at the last collect
    site: str = ""  # the host of the site the feed belongs to
    failing_since: str | None = None  # the first failure of its current run of failures (None: it works)

    @property
    def display_name(self) -> str:
        """What readers see: the editor's title, else the feed's, else the internal name."""
        return self.title or self.feed_title or self.name

    def public(self) -> dict[str, Any]:
        """The fields shown to people (``--json``): everything but the fetch bookkeeping."""
        return {
            "id": self.id,
            "name": self.name,
            "display_name": self.display_name,
            "title": self.title,
            "feed_title": self.feed_title,
            "site": self.site,
            "location": self.location,
            "kind": self.kind,
            "weight": self.weight,
            "tags": list(self.tags),
            "created_at": self.created_at,
            "etag": self.etag,
            "last_modified": self.last_modified,
            "last_attempt_at": self.last_attempt_at,
            "last_success_at": self.last_success_at,
            "last_error": self.last_error,
            "consecutive_failures": self.consecutive_failures,
            "last_warning": self.last_warning,
        }


@dataclass(frozen=True, slots=True)
class StoredStory:
    """A story as the store holds it. ``source`` is the source's display name (None once the source is removed)."""

    id: int
    identity: str
    source_id: int | None
    title: str
    url: str | None
    guid: str | None
    author: str | None
    published_at: str
    collected_at: str
    updated_at: str | None
    summary: str
    body_text: str
    body_html: str
    image_url: str | None
    tags: tuple[str, ...]
    language: str | None
    comments: int | None
    engagement: dict[str, int]
    pinned: bool  # pinned for some list (pins are each list's own: Store.list_picks)
    source: str | None = None
    source_weight: float | None = None

    def as_dict(self) -> dict[str, Any]:
        """A plain dict (for templates, snapshots and ``--json``)."""
        return asdict(self) | {"tags": list(self.tags)}


@dataclass(frozen=True, slots=True)
class StoryLine:
    """One line of ``stories list``: a story without its text."""

    id: int
    title: str
    url: str | None
    published_at: str
    collected_at: str
    pinned: bool  # pinned for some list
    source: str | None


# -- people: lists, subscribers, their subscriptions and suppressions ---------------------------------------


@dataclass(frozen=True, slots=True)
class MailingList:
    """A subscriber list with its sender settings and editor keywords."""

    id: int
    name: str
    from_email: str
    from_name: str = ""
    reply_to: str = ""
    subject_prefix: str = ""
    address: str = ""
    double_opt_in: bool = False
    boost: tuple[str, ...] = ()
    block: tuple[str, ...] = ()
    created_at: str = ""
    title: str = ""  # what readers see (the name when empty)
    description: str = ""
    language: str = "en"  # BCP 47: the email's lang and dir, its labels and date, its web pages
    sources: tuple[str, ...] = ()  # the source names it draws from (empty: every source)
    tags: tuple[str, ...] = ()  # the source tags it draws from (empty: every tag)
    send_at: str = ""  # HH:MM in its readers' local time ("" : whenever `digest run` runs)
    timezone: str = ""  # IANA zone of send_at and of its editions' dates ("" : [digest] timezone)
    weekday: str = ""  # "monday".."sunday" for a weekly list ("" : daily)
    require_approval: bool = False  # `digest run` sends only an edition the editor approved
    public: bool = True  # offered on the signup page

    @property
    def display_title(self) -> str:
        return self.title or self.name


@dataclass(frozen=True, slots=True)
class Subscriber:
    """One person (an address is on file once, whatever lists it is on)."""

    id: int
    email: str
    name: str = ""
    attributes: dict[str, Any] = field(default_factory=dict)
    created_at: str = ""


@dataclass(frozen=True, slots=True)
class Subscription:
    """One person's standing on one list."""

    subscriber_id: int
    list_id: int
    list: str  # the list's name
    status: str
    created_at: str = ""
    updated_at: str = ""


@dataclass(frozen=True, slots=True)
class Member:
    """A row of ``subscribers list``: a person with one of their subscriptions (or none)."""

    id: int
    email: str
    name: str
    created_at: str
    list: str | None
    status: str | None


# -- editions and the send ledger ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Edition:
    """A digest frozen for one list and date. ``now`` is the time it was ranked as of; times are ISO strings."""

    id: int
    list_id: int
    list: str  # the list's name
    date: str
    subject: str
    preheader: str
    now: str
    built_at: str
    subject_edit: str | None = None  # the editor's subject (None: the template's)
    preheader_edit: str | None = None  # the editor's preheader (None: the template's)
    approved_at: str | None = None  # when the editor approved it (None: not approved, or a change since)
    approved_by: str | None = None

    @property
    def approval(self) -> Approval | None:
        return Approval(self.approved_at, self.approved_by or "") if self.approved_at else None


@dataclass(frozen=True, slots=True)
class PublishedEdition:
    """An edition that went to at least one reader (what the archive lists)."""

    id: int
    list_id: int
    list: str
    date: str
    subject: str
    built_at: str
    stories: int  # how many stories it holds
    sent_at: str  # when its first copy went
    list_title: str = ""  # the list as readers know it (its title, or its name when it has none)


@dataclass(frozen=True, slots=True)
class EditionStory:
    """One story of an edition in rank order: its score's parts, and its text as it was when built."""

    rank: int
    story_id: int
    score: float
    why: dict[str, Any]
    also: list[dict[str, Any]]  # other coverage: story_id, title, url, source
    title: str
    url: str | None
    summary: str
    body_text: str
    image_url: str | None
    author: str | None
    published_at: str
    language: str | None
    source: str | None

    def as_dict(self) -> dict[str, Any]:
        """A plain dict (what the templates see as ``story``)."""
        return asdict(self)


@dataclass(frozen=True, slots=True)
class Choice:
    """What a reader chose on their preferences page that changes what they get: topics (source tags; none means
    the whole list) and how often. Readers with the same choice get the same variant of an edition."""

    topics: tuple[str, ...] = ()
    frequency: str = "daily"  # or "weekly": the week's best on the list's weekly day

    @property
    def key(self) -> str:
        """The variant's name in the store ("" for the whole edition, every day)."""
        if not self.topics and self.frequency == "daily":
            return ""
        return json.dumps([self.frequency, list(self.topics)], ensure_ascii=False, separators=(",", ":"))

    @property
    def label(self) -> str:
        """What a note says of these readers."""
        what = ", ".join(self.topics) if self.topics else "every topic"
        return f"{self.frequency} readers of {what}"


@dataclass(frozen=True, slots=True)
class Variant:
    """One variant of a day's edition: the stories for one reader choice, frozen and rendered once."""

    id: int
    edition_id: int
    key: str
    topics: tuple[str, ...]
    frequency: str
    built_at: str

    @property
    def choice(self) -> Choice:
        return Choice(self.topics, self.frequency)


@dataclass(frozen=True, slots=True)
class StoryDetails:
    """What a ranking explanation shows of a story."""

    id: int
    title: str
    url: str | None
    published_at: str
    comments: int | None
    engagement: dict[str, int]
    source: str | None


@dataclass(frozen=True, slots=True)
class LockHolder:
    """Who holds a named lock (a send of one edition): process, host, run and heartbeat."""

    name: str
    owner: str
    pid: int
    host: str
    acquired_at: str
    heartbeat_at: str
    run_id: str | None = None


@dataclass(frozen=True, slots=True)
class Batch:
    """One request's worth of recipients in the ledger (``send_batches``)."""

    id: int
    edition_id: int
    provider: str
    status: str  # in_flight | sent | failed | unknown
    size: int
    attempts: int
    message_id: str | None
    error: str | None
    pid: int | None
    started_at: str
    finished_at: str | None
    run_id: str | None


@dataclass(frozen=True, slots=True)
class SendRow:
    """One reader's row in the ledger for one edition, with the edition's date, subject and list."""

    id: int
    edition_id: int
    subscriber_id: int
    email: str
    batch_id: int | None
    status: str  # in_flight | sent | failed | unknown
    message_id: str | None
    error: str | None
    created_at: str
    updated_at: str
    unknown_retries: int
    date: str
    subject: str
    list: str


@dataclass(frozen=True, slots=True)
class SendCounts:
    """An edition's ledger rows by status."""

    in_flight: int = 0
    sent: int = 0
    failed: int = 0
    unknown: int = 0

    @property
    def total(self) -> int:
        return self.in_flight + self.sent + self.failed + self.unknown


@dataclass(frozen=True, slots=True)
class UnfinishedEdition:
    """An earlier edition of a list that still owes someone: its failed and unknown rows."""

    list: str
    edition: int
    date: str
    failed: int
    unknown: int


@dataclass(frozen=True, slots=True)
class Due:
    """Which readers of a list with a send time are owed an edition now (``digest run``'s hourly rule).

    A reader's zone is their ``timezone`` attribute, else ``zone`` (the list's). ``since`` holds, for each zone
    whose local time has passed the list's ``send_at`` today, the UTC instant that zone's local day began: a
    reader there is due unless a send row of one of the list's ``recent`` editions was written for them since
    (one edition per local day). Readers of the other zones wait (``waiting`` of them).
    """

    zone: str
    since: tuple[tuple[str, str], ...]  # (zone, ISO UTC start of its local day), due zones only
    recent: tuple[int, ...]  # the list's editions whose sends could fall on a reader's local day
    waiting: int = 0  # readers whose local send time has not come yet today


@dataclass(frozen=True, slots=True)
class EditionStats:
    """One edition's figures: the ledger's (sent, failed, unknown) and people per delivery event."""

    edition: int
    list: str
    date: str
    subject: str
    sent: int
    failed: int
    unknown: int
    delivered: int
    bounced: int
    dropped: int
    opened: int
    clicked: int
    unsubscribed: int
    complained: int
    link_clicks: int = 0  # clicks on its stories' tracked links ([track] clicks), all readers together


@dataclass(frozen=True, slots=True)
class StoryClicks:
    """Clicks on one story's tracked link in one edition; ``rate``: clicks per message sent (0 when none went)."""

    edition: int
    rank: int
    story_id: int
    title: str
    url: str | None
    clicks: int
    rate: float


@dataclass(frozen=True, slots=True)
class RunSummary:
    """What a ``digest run`` did, in brief: kept in the ``runs`` table for ``digest doctor``."""

    now: str  # the time it acted as
    new: int = 0  # stories collected
    failed_sources: int = 0
    lists: dict[str, str] = field(default_factory=dict)  # list name -> its outcome in a few words
    error: str | None = None  # what stopped the run, if something did


@dataclass(frozen=True, slots=True)
class RunRecord:
    """One ``digest run``: when it began and ended (the machine's clock, ISO), its exit code and summary.

    A run that never finished (killed, or still going) has no end, exit code or summary.
    """

    id: int
    started_at: str
    finished_at: str | None = None
    exit_code: int | None = None
    summary: RunSummary | None = None


# -- the editor's desk ----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Approval:
    """Who approved an edition for sending, and when (ISO)."""

    at: str
    by: str


@dataclass(frozen=True, slots=True)
class EditionChange:
    """One change the editor made to an edition, as recorded (replayed after every rebuild until reset)."""

    id: int
    at: str  # ISO
    action: str  # drop | swap | move | pin | edit | edit_edition | approve
    args: dict[str, Any]
    what: str = ""  # the change in words ("dropped story 12", "moved story 4 to 1")


# The parts of a score, as the ranker computes them: score = source × (recency + engagement + coverage + keywords) + pin
SCORE_PARTS = ("recency", "engagement", "coverage", "keywords", "pin", "source")


@dataclass(frozen=True, slots=True)
class DraftStory:
    """A story on the desk: one of the edition's picks (``rank`` set) or a runner-up (``why_lost`` set)."""

    story_id: int
    rank: int | None  # 1-based position in the edition; None for a runner-up
    title: str  # as shown (the editor's if edited)
    blurb: str  # the summary as shown (the editor's if edited)
    url: str | None
    source: str | None  # the source's display name
    score: float
    parts: dict[str, float]  # SCORE_PARTS; source is a factor, the others add up (see SCORE_PARTS)
    also: tuple[str, ...] = ()  # the other outlets that covered it (display names)
    pinned: bool = False  # pinned on the desk: stays in on a rebuild
    original_title: str | None = None  # the ranked title, when the editor changed it
    original_blurb: str | None = None  # the ranked summary, when the editor changed it
    why_lost: str | None = None  # a runner-up's reason ("score 0.41 below the last pick's 0.52", ...)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self) | {"also": list(self.also)}


@dataclass(frozen=True, slots=True)
class Draft:
    """An edition as the editor's desk shows it: picks with their score parts, runners-up, changes, approval."""

    edition: int
    list: str
    date: str
    subject: str  # as it will be sent
    preheader: str
    original_subject: str  # what the templates make of the picks
    original_preheader: str
    approved: Approval | None
    require_approval: bool  # the list's `digest run` sends only once approved
    frozen: bool  # sending has started: no more changes
    stories: tuple[DraftStory, ...]
    runners_up: tuple[DraftStory, ...]
    changes: tuple[EditionChange, ...]
    notes: tuple[str, ...] = ()  # what the last action did besides ("the approval of ... is cleared")

    def story(self, story_id: int) -> DraftStory | None:
        return next((s for s in self.stories if s.story_id == story_id), None)

    @property
    def fingerprint(self) -> str:
        """What the editor sees and approves, hashed (subject, preheader, each story's id, title and blurb):
        an approval that names it is refused once the edition has become something else."""
        seen = [self.subject, self.preheader, *([s.story_id, s.title, s.blurb] for s in self.stories)]
        return hashlib.sha256(json.dumps(seen, ensure_ascii=False).encode("utf-8")).hexdigest()[:16]

    def as_dict(self) -> dict[str, Any]:
        return {
            "edition": self.edition,
            "list": self.list,
            "date": self.date,
            "subject": self.subject,
            "preheader": self.preheader,
            "original_subject": self.original_subject,
            "original_preheader": self.original_preheader,
            "approved": asdict(self.approved) if self.approved else None,
            "require_approval": self.require_approval,
            "frozen": self.frozen,
            "stories": [s.as_dict() for s in self.stories],
            "runners_up": [s.as_dict() for s in self.runners_up],
            "changes": [asdict(c) for c in self.changes],
            "notes": list(self.notes),
            "fingerprint": self.fingerprint,
        }


@dataclass(frozen=True, slots=True)
class Retention:
    """What folding the editions dated before ``before`` frees (or freed)."""

    before: str
    editions: int
    sends: int  # ledger rows
    events: int  # event rows (those kept for consent and audits not counted)
    bytes: int | None  # an estimate from the tables' sizes (None where SQLite has no dbstat)
