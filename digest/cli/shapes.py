"""The JSON documents the commands print with ``--json``, as types.

Reports the library already types (``SendReport``, ``Check``, ``SourceResult``...) are used as they are;
the documents below are the ones whose keys differ from a dataclass's fields, or that a command builds.
``docs/json.md`` is generated from these (``python -m digest.cli.jsondoc --write docs/json.md``) and a
test runs every command and validates what it prints against that file.

One name per concept: ``story_id``, ``subscriber_id``, ``list_id``, ``edition`` (an edition's id),
``list`` (a list's name). Keys marked *alias* are the older names, kept for one release.

Only ``typing`` here: command modules import it at start-up.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NotRequired, TypedDict

if TYPE_CHECKING:  # library types named in the documents; jsondoc resolves them, start-up never loads them
    from digest.collect import Probe, SourceResult
    from digest.health import SourceState
    from digest.models import RunRecord
    from digest.pipeline import FailingSource


class ErrorBody(TypedDict):
    message: str  # the line a person reads on stderr without --json
    hint: str  # its how-to-fix part ("" when the message names none)
    exit_code: int  # the process's exit code: 1 a user error, 2 a usage error, 3 partly done


class ErrorDoc(TypedDict):
    error: ErrorBody


class VersionDoc(TypedDict):
    version: str


class InitDoc(TypedDict):
    home: str
    created_config: bool
    sources: list[str]
    list: str | None
    subscribers: int
    next: str  # the command to run next


class ScheduleList(TypedDict):
    list: str
    timezone: str  # the list's own, else [digest] timezone
    send_at: str  # HH:MM in each reader's timezone ('' : whenever the run runs)
    weekday: str  # monday..sunday for a weekly list ('' : daily)
    runs_at: str  # the daily line's time in the list's timezone ('' with --hourly)
    note: str  # what the human output says of it


class ScheduleDoc(TypedDict):
    line: str
    installed: bool
    hourly: bool
    home: str
    log: str
    run_log: str
    lists: list[ScheduleList]


class SourceDoc(TypedDict):
    source_id: int
    id: int  # alias of source_id
    name: str
    display_name: str  # what readers see: title, else feed_title, else name
    title: str  # the editor's display name ('' : the feed's own)
    feed_title: str  # the feed's title (or the page's site name) at the last collect
    site: str  # the host of the feed's site ('' until known)
    location: str
    kind: str | None
    weight: float
    tags: list[str]
    created_at: str
    etag: str | None
    last_modified: str | None
    last_attempt_at: str | None
    last_success_at: str | None
    last_error: str | None
    consecutive_failures: int
    last_warning: str | None


class SourceAdded(SourceDoc):
    check: Probe | None  # what one look at it found (null with --no-check)


class SourceRow(SourceDoc):
    stories: int


class SkippedSource(TypedDict):
    location: str
    why: str


class SourcesImported(TypedDict):
    added: list[SourceDoc]
    skipped: list[SkippedSource]


class SourceRemoved(TypedDict):
    name: str
    removed: bool


class CollectDoc(TypedDict):
    new: int
    updated: int
    unchanged: int
    failed: int
    sources: list[SourceResult]  # one per source, as collected


class StoryRow(TypedDict):
    story_id: int
    id: int  # alias of story_id
    title: str
    url: str | None
    published_at: str
    collected_at: str
    pinned: bool  # pinned for some list ('digest stories picks --list L' says which)
    source: str | None


class StoryDoc(TypedDict):
    story_id: int
    id: int  # alias of story_id
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
    tags: list[str]
    language: str | None
    comments: int | None
    engagement: dict[str, int]
    pinned: bool  # pinned for some list ('digest stories picks --list L' says which)
    source: str | None
    source_weight: float | None


class PinDoc(TypedDict):
    story_id: int
    list: str  # pins are each list's own
    pinned: bool


class DropDoc(TypedDict):
    story_id: int
    list: str
    dropped: bool


class PicksDoc(TypedDict):
    list: str
    pinned: list[int]  # story ids
    dropped: list[int]


class Why(TypedDict):
    recency: float
    engagement: float
    coverage: float
    keywords: float
    pinned: float
    source_factor: float
    age_hours: float
    outlets: int
    engagement_figures: dict[str, int]
    boosted_by: NotRequired[list[str]]
    blocked_by: NotRequired[list[str]]
    undated: NotRequired[bool]


class RankedStory(TypedDict):
    rank: NotRequired[int]  # picked stories only
    story_id: int
    title: str
    url: str | None
    source: str | None
    score: float
    why: Why
    also: list[dict[str, Any]]
    reason: NotRequired[str]  # why a runner-up lost


class RankDoc(TypedDict):
    now: str | None
    list: str | None
    considered: int
    pool: int
    clusters: int
    in_scope: NotRequired[int]  # stories of the window from the list's sources (a list with --source/--tag only)
    advice: NotRequired[str]  # what to change when the window (or the list's scope) holds nothing
    stories: list[RankedStory]
    runners_up: list[RankedStory]


class BuildDoc(TypedDict):
    edition: int
    list: str
    date: str
    subject: str
    stories: list[dict[str, Any]]
    warnings: list[str]


class ScoreParts(TypedDict):
    recency: float
    engagement: float
    coverage: float
    keywords: float
    pin: float
    source: float  # a factor: score = source × (recency + engagement + coverage + keywords) + pin


class DraftStoryDoc(TypedDict):
    story_id: int
    rank: int | None  # 1 is the lead; null for a runner-up
    title: str  # as shown (the editor's if edited)
    blurb: str
    url: str | None
    source: str | None  # the source's display name
    score: float
    parts: ScoreParts
    also: list[str]  # the other outlets that covered it
    pinned: bool  # pinned on the desk: stays in on a rebuild
    original_title: str | None  # the ranked title when the editor changed it
    original_blurb: str | None
    why_lost: str | None  # a runner-up's reason


class ApprovalDoc(TypedDict):
    at: str
    by: str


class ChangeDoc(TypedDict):
    id: int
    at: str
    action: str  # drop | swap | move | pin | edit | edit_edition | approve
    args: dict[str, Any]
    what: str  # the change in words


class DraftDoc(TypedDict):
    edition: int
    list: str
    date: str
    subject: str  # as it will be sent
    preheader: str
    original_subject: str  # what the templates make of the stories
    original_preheader: str
    approved: ApprovalDoc | None
    require_approval: bool  # the list's `digest run` sends only approved editions
    frozen: bool  # sending started: it can no longer change
    stories: list[DraftStoryDoc]
    runners_up: list[DraftStoryDoc]
    changes: list[ChangeDoc]  # oldest first; replayed after every rebuild until reset
    notes: list[str]  # what the command did besides (an approval cleared, changes forgotten)
    fingerprint: str  # what it shows, hashed: 'edition approve --seen' refuses once it has changed


class ArchiveDoc(TypedDict):
    out: str
    index: str
    editions: int
    pages: list[str]
    lists: list[str]


class ServingDoc(TypedDict):
    url: str  # where it answers (printed once it does)


class TemplatesInitDoc(TypedDict):
    templates_dir: str
    written: list[str]
    kept: list[str]


class TemplateRow(TypedDict):
    template: str
    overridden: bool
    path: str


class ListDoc(TypedDict):
    list_id: int
    id: int  # alias of list_id
    list: str
    name: str  # alias of list
    from_email: str
    from_name: str
    reply_to: str
    subject_prefix: str
    address: str
    double_opt_in: bool
    boost: list[str]
    block: list[str]
    created_at: str
    title: str
    description: str
    language: str  # BCP 47: the email's lang and dir, labels and date
    sources: list[str]  # the source names it draws from (empty: every source)
    tags: list[str]  # the source tags it draws from (empty: every tag)
    send_at: str  # HH:MM in its readers' local time ("" : whenever `digest run` runs)
    timezone: str  # IANA zone of send_at and of its dates ("" : [digest] timezone)
    weekday: str  # monday..sunday for a weekly list ("" : daily)
    require_approval: bool  # `digest run` sends only an approved edition
    public: bool  # offered on the signup page


class ListRow(ListDoc):
    active: int  # who receives the next edition
    pending: int  # waiting for their confirmation click


class KeywordsDoc(TypedDict):
    list: str
    boost: list[str]
    block: list[str]


class ConfirmationMail(TypedDict):
    provider: str
    status: str  # sent | failed | unknown
    error: str | None


class SubscriberAdded(TypedDict):
    subscriber_id: int
    id: int  # alias of subscriber_id
    email: str
    list: str
    status: str
    confirm_url: str | None  # expires after [web] confirm_days
    mail: ConfirmationMail | None  # the confirmation mail sent (None with --no-email or when none was needed)


class Unsubscribed(TypedDict):
    email: str
    unsubscribed: list[str]  # the lists they left


class Erased(TypedDict):
    email: str
    erased: bool
    files: int  # outbox files removed with them
    log_lines: int  # log lines removed with them


class Subscription(TypedDict):
    list: str
    status: str
    created_at: str
    updated_at: str


class SentTo(TypedDict):
    edition: int
    list: str
    date: str
    subject: str
    status: str
    message_id: str | None
    at: str


class SubscriberDoc(TypedDict):
    subscriber_id: int
    id: int  # alias of subscriber_id
    email: str
    name: str
    attributes: dict[str, Any]
    created_at: str
    subscriptions: list[Subscription]
    sent: list[SentTo]


class MemberRow(TypedDict):
    subscriber_id: int
    id: int  # alias of subscriber_id
    email: str
    name: str
    created_at: str
    list: str | None
    status: str | None
    receives: bool


class Rejected(TypedDict):
    line: int
    email: str
    reason: str
    file: NotRequired[str]


class ImportWarningDoc(TypedDict):
    line: int
    email: str
    warning: str
    file: NotRequired[str]


class ImportDoc(TypedDict):
    added: int
    updated: int
    unchanged: int
    rejected: list[Rejected]  # the first 100; every one goes to --rejects FILE
    rejected_count: int  # all the rejected rows
    warnings: list[ImportWarningDoc]  # imported, with something left out or folded (the first 100)
    warnings_count: int
    suppressed: int  # people the file marks as gone: kept from all mail
    format: str  # the export format the file was read as
    unused_columns: list[str]


class ExportDoc(TypedDict):
    out: str
    subscribers: int


class SyncFile(TypedDict):
    list: str
    file: str
    added: NotRequired[int]
    updated: NotRequired[int]
    unchanged: NotRequired[int]
    rejected: NotRequired[int]
    error: str | None


class SyncDoc(ImportDoc):
    lists: list[SyncFile]


class AwaitingApproval(TypedDict):
    approve: str  # the command that approves the edition (the next run sends it)
    show: str  # the command that shows it, with why each story is in
    desk: str  # the command that opens the desk in a browser


class RunList(TypedDict):
    list: str
    edition: NotRequired[int]
    date: NotRequired[str]
    provider: NotRequired[str]
    sent: NotRequired[int]
    skipped: NotRequired[int | str]  # a count, or why the list was skipped (nothing new)
    waiting: NotRequired[int]  # readers whose local send time has not come yet (they get it at a later run)
    not_due: NotRequired[str]  # why the list sent nothing this run: its send time or weekday has not come
    paused: NotRequired[int]  # readers pausing the list: not sent, not owed
    variants: NotRequired[int]  # variants (readers' topics, weekly) that went to someone
    weekly: NotRequired[int]  # weekly readers whose day it is not
    empty: NotRequired[int]  # readers whose choice had no stories today
    notes: NotRequired[list[str]]  # which choices had nothing today
    failed: NotRequired[int]
    unknown: NotRequired[int]
    requests: NotRequired[int]
    retried: NotRequired[int]
    resolved: NotRequired[int]
    dry_run: NotRequired[bool]
    halted: NotRequired[bool]
    errors: NotRequired[list[str]]
    web_copy: NotRequired[str]
    error: NotRequired[str]
    awaiting_approval: NotRequired[AwaitingApproval]  # built and held: the list sends only approved editions


class Unfinished(TypedDict):
    list: str
    edition: int
    date: str
    failed: int
    unknown: int


class RunDoc(TypedDict):
    collect: CollectDoc
    failing_sources: list[FailingSource]  # the sources that failed this run, and since when
    lists: list[RunList]
    unfinished: list[Unfinished]
    exit_code: int


class StatsRow(TypedDict):
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
    link_clicks: int  # clicks on its stories' tracked links ([track] clicks)
    stories: NotRequired[list[StoryClicksRow]]  # with --edition: each story's tracked clicks


class StoryClicksRow(TypedDict):
    edition: int
    rank: int
    story_id: int
    title: str
    url: str | None
    clicks: int
    rate: float  # clicks per message sent


def with_aliases(row: dict[str, Any], **canonical: str) -> dict[str, Any]:
    """``row`` with each ``canonical=old`` key added beside its old name (kept as an alias for one release)."""
    out = {new: row[old] for new, old in canonical.items()}
    return out | row


class CheckDoc(TypedDict):
    name: str  # "config", "store", "last run", "sources", "source NAME", "provider", "list NAME", "SPF DOMAIN"...
    status: str  # ok | warn | fail
    detail: str  # what was found, and the fix
    source: NotRequired[SourceState]  # a failing or stale source's check: its record
    last_run: NotRequired[RunRecord]  # the "last run" check, once there was one: exit_code, started_at, finished_at
