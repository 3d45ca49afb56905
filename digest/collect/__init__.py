"""Collection: fetch or read every source, parse and clean its stories, store them.

Three steps: get the bytes (a thread pool: HTTP is I/O-bound), parse them (a process pool when there is
enough to parse, since feedparser is CPU-bound; in-process otherwise), and store (in this process, one
transaction per source). A broken source is reported in the :class:`CollectReport` and the run goes on.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import re
import signal
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from digest import clock
from digest.collect.fetch import fetch_url, is_url, new_client, read_file
from digest.collect.identity import identify
from digest.collect.parse import parse_document
from digest.collect.sources import default_name
from digest.collect.sponsored import is_sponsored
from digest.config import CollectSettings, Config
from digest.errors import NotFoundError, SourceError
from digest.models import ParsedDocument, Source, StoryIn
from digest.store import Store

if TYPE_CHECKING:
    import httpx

__all__ = ["CollectReport", "SourceResult", "add_source", "clamp_dates", "collect", "parse_safely"]


@dataclass
class SourceResult:
    name: str
    location: str
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    error: str | None = None
    warning: str | None = None
    sponsored: int = 0  # items labelled sponsored, left out ([collect] sponsored = "skip")


@dataclass
class CollectReport:
    sources: list[SourceResult] = field(default_factory=list)

    @property
    def new(self) -> int:
        return sum(s.new for s in self.sources)

    @property
    def updated(self) -> int:
        return sum(s.updated for s in self.sources)

    @property
    def unchanged(self) -> int:
        return sum(s.unchanged for s in self.sources)

    @property
    def failed(self) -> int:
        return sum(1 for s in self.sources if s.error)

    def as_dict(self) -> dict[str, Any]:
        return {
            "new": self.new,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "failed": self.failed,
            "sources": [asdict(s) for s in self.sources],
        }


def add_source(
    store: Store,
    location: str,
    *,
    name: str | None = None,
    weight: float = 1.0,
    tags: list[str] | None = None,
    title: str = "",
) -> Source:
    """Add where stories come from: a feed URL, or a file or folder (kept as its absolute path, so a later
    run from another directory still finds it). ``name`` defaults to a unique readable one (the host, the
    host with the feed's path, or the file's name); ``title`` is what readers see (default: the feed's own).
    Nothing is fetched: :func:`collect` does that."""
    if not is_url(location):
        path = Path(location).expanduser()
        if not path.exists():
            raise NotFoundError(f"{location} does not exist: give a feed URL, a file or a folder")
        location = str(path.resolve())
    return store.add_source(name or default_name(store, location), location, weight=weight, tags=tags, title=title)


def clamp_dates(stories: Iterable[StoryIn], now: datetime) -> list[StoryIn]:
    """Missing dates fall back to the collection time; future dates are clamped to it."""
    out = []
    for story in stories:
        if story.published_at is None or story.published_at > now:
            story.published_at = now
        out.append(story)
    return out


@dataclass
class _Job:
    name: str
    location: str
    source_id: int | None
    etag: str | None = None
    last_modified: str | None = None
    content_hash: str | None = None
    adhoc: bool = False  # named on the command line, not yet a source
    kind: str | None = None  # what the source gave last time (rss, atom, jsonfeed, html, text)

    @property
    def expects_feed(self) -> bool:
        """A feed is expected: the source gave one before, or its URL says feed (``/feed``, ``.rss``, ``.xml``)."""
        if not is_url(self.location):
            return False
        return self.kind in _FEED_KINDS or bool(_FEED_URL.search(urlsplit(self.location).path))


_FEED_KINDS = {"rss", "atom", "jsonfeed"}
_FEED_URL = re.compile(r"(?:^|/)(?:feeds?|rss|atom)(?:/|\.|$)|\.(?:rss|atom|xml|rdf)$|[./_-]rss\b", re.IGNORECASE)


@dataclass
class _Outcome:
    job: _Job
    blobs: list[tuple[str, bytes, str | None]] = field(default_factory=list)  # (document location, bytes, base)
    documents: list[tuple[str, ParsedDocument]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # per document, when a folder holds several
    file_times: dict[str, datetime] = field(default_factory=dict)  # a file's mtime dates its undated stories
    error: str | None = None
    not_modified: bool = False
    etag: str | None = None
    last_modified: str | None = None
    content_hash: str | None = None


def _documents(location: str) -> list[Path]:
    path = Path(location).expanduser()
    if path.is_dir():
        return sorted(p for p in path.rglob("*") if p.is_file() and not any(x.startswith(".") for x in p.parts))
    if not path.exists():
        raise SourceError(f"{location} does not exist: give a feed URL, a file or a folder")
    return [path]


def _fetch(job: _Job, settings: CollectSettings, client: httpx.Client | None = None) -> _Outcome:
    """Get a source's bytes; an unchanged source (HTTP 304, or the same bytes as last time) stops here."""
    outcome = _Outcome(job)
    try:
        if is_url(job.location):
            got = fetch_url(job.location, settings, etag=job.etag, last_modified=job.last_modified, client=client)
            outcome.etag, outcome.last_modified = got.etag, got.last_modified
            if got.data is None:
                outcome.not_modified = True
                return outcome
            outcome.content_hash = hashlib.sha256(got.data).hexdigest()
            outcome.blobs.append((job.location, got.data, got.url))
        else:
            h = hashlib.sha256()
            for path in _documents(job.location):
                data = read_file(path, settings.max_bytes)
                outcome.file_times[str(path)] = datetime.fromtimestamp(path.stat().st_mtime, UTC)
                h.update(str(path).encode() + b"\0" + data)
                outcome.blobs.append((str(path), data, None))
            outcome.content_hash = h.hexdigest()
        if outcome.content_hash == job.content_hash:
            outcome.not_modified = True
            outcome.blobs = []
    except SourceError as exc:
        outcome.error = str(exc)
    except OSError as exc:  # e.g. a folder that vanished while being read
        outcome.error = f"cannot read {job.location}: {exc.strerror or exc}"
    return outcome


class _TooSlow(Exception):
    pass


@dataclass(frozen=True)
class Probe:
    """What one look at a location found, before it becomes a source (``sources add`` says it)."""

    ok: bool  # digest can read stories from it
    kind: str | None  # rss, atom, jsonfeed, html, text (the first document's, for a folder)
    title: str | None
    items: int
    problem: str | None  # why it is not a source digest can read (when not ok), or a warning

    def line(self) -> str:
        if not self.ok:
            return f"not a source digest can read: {self.problem}"
        what = f"{self.kind or 'document'}" + (f" '{self.title}'" if self.title else "")
        return f"found {what} with {self.items} item(s)" + (f"; warning: {self.problem}" if self.problem else "")


def probe(settings: CollectSettings, location: str) -> Probe:
    """Fetch (or read) ``location`` once, as collect would, and say what it holds. Stores nothing."""
    job = _Job(name=location, location=location, source_id=None)
    outcome = _fetch(job, settings)
    if outcome.error:
        return Probe(False, None, None, 0, outcome.error)
    kinds: list[str] = []
    titles: list[str | None] = []
    items, problems = 0, []
    for _where, data, base in outcome.blobs:
        parsed, error = parse_safely(data, base, job.expects_feed, settings.parse_timeout)
        if parsed is None:
            problems.append(error or "unreadable")
            continue
        kinds.append(parsed.kind)
        titles.append(parsed.title)
        items += len(parsed.stories)
        if parsed.warning:
            problems.append(parsed.warning)
    if not kinds:
        return Probe(False, None, None, 0, problems[0] if problems else "nothing to read there")
    return Probe(True, kinds[0], titles[0] if len(titles) == 1 else None, items, "; ".join(problems) or None)


def parse_safely(
    data: bytes, base: str | None, expect_feed: bool = False, time_limit: float = 0.0
) -> tuple[ParsedDocument | None, str | None]:
    """:func:`parse_document` that never raises: a parser's crash on hostile input becomes an error line.

    ``time_limit`` (seconds, 0: none) bounds the parse where a timer can interrupt it: in the main thread of
    this process or of a pool worker. Markup nested too deeply is refused before parsing (:func:`clean.check_depth`).
    """
    timer = time_limit > 0 and hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()
    if timer:

        def stop(signum: int, frame: object) -> None:
            raise _TooSlow

        previous = signal.signal(signal.SIGALRM, stop)
        signal.setitimer(signal.ITIMER_REAL, time_limit)
    try:
        return parse_document(data, base, expect_feed=expect_feed), None
    except _TooSlow:
        return None, f"reading the document took over {time_limit:g}s, so it was given up ([collect] parse_timeout)"
    except SourceError as exc:
        return None, str(exc)
    except RecursionError:
        return None, "the document nests too deeply to read"
    except (ImportError, NameError):  # a broken install or a bug, not a bad document: let it show
        raise
    except Exception as exc:  # noqa: BLE001 - third-party parsers on untrusted bytes: report, never crash
        return None, f"could not read the document ({type(exc).__name__}: {exc})"
    finally:
        if timer:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)


def _parse_pool(settings: CollectSettings, outcomes: list[_Outcome]) -> Executor | None:
    """A process pool when there is enough to parse for it to pay off, else None (parse in-process)."""
    blobs = [b for o in outcomes for b in o.blobs]
    workers = settings.parse_workers or (os.cpu_count() or 1)
    if workers < 2 or len(blobs) < 2 or sum(len(b[1]) for b in blobs) < settings.parallel_parse_bytes:
        return None
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if "fork" in methods else None)
    return ProcessPoolExecutor(max_workers=min(workers, len(blobs)), mp_context=context)


def _parse(outcomes: list[_Outcome], settings: CollectSettings) -> None:
    pool = _parse_pool(settings, outcomes)
    try:
        work = [(o, loc, data, base) for o in outcomes for loc, data, base in o.blobs]
        expect = [w[0].job.expects_feed for w in work]
        limit = settings.parse_timeout
        if pool is None:
            results: Iterable[tuple[ParsedDocument | None, str | None]] = (
                parse_safely(w[2], w[3], feed, limit) for w, feed in zip(work, expect, strict=True)
            )
        else:
            results = pool.map(
                parse_safely,
                [w[2] for w in work],
                [w[3] for w in work],
                expect,
                [limit] * len(work),
                chunksize=1,
            )
        for (outcome, location, _, _), (doc, error) in zip(work, results, strict=True):
            if doc is not None:
                outcome.documents.append((location, doc))
            else:
                name = Path(location).name if len(outcome.blobs) > 1 else ""
                outcome.errors.append(f"{name}: {error}" if name else str(error))
    finally:
        if pool is not None:
            pool.shutdown()
    for outcome in outcomes:
        outcome.blobs = []
        if outcome.errors and not outcome.documents:
            outcome.error = "; ".join(outcome.errors)


def _jobs(store: Store, locations: list[str] | None) -> list[_Job]:
    if not locations:
        return [
            _Job(s.name, s.location, s.id, s.etag, s.last_modified, s.content_hash, kind=s.kind)
            for s in store.sources()
        ]
    jobs = []
    for location in locations:
        if not is_url(location) and Path(location).expanduser().exists():
            location = str(Path(location).expanduser().resolve())
        known = store.source_by_location(location)
        if known:
            jobs.append(
                _Job(
                    known.name, location, known.id, known.etag, known.last_modified, known.content_hash, kind=known.kind
                )
            )
        else:  # a location collected directly becomes a source of its own once something is read from it
            jobs.append(_Job(location if is_url(location) else Path(location).name, location, None, adhoc=True))
    return jobs


def collect(
    store: Store,
    config: Config,
    locations: list[str] | None = None,
    *,
    now: datetime | None = None,
    progress: Callable[[SourceResult], None] | None = None,
    fetched: Callable[[str], None] | None = None,
) -> CollectReport:
    """Collect every source (or just ``locations``: files, folders or URLs) into the store.

    ``fetched(name)`` is called as each source's bytes arrive, ``progress(result)`` as each is stored.
    """
    now = now or clock.now()
    settings = config.settings.collect
    jobs = _jobs(store, locations)
    report = CollectReport()
    if not jobs:
        return report
    # one HTTP client for the run (only when there is something to fetch: it costs a TLS context)
    client = new_client(settings) if any(is_url(job.location) for job in jobs) else None
    try:
        with ThreadPoolExecutor(max_workers=max(1, min(settings.concurrency, len(jobs)))) as pool:
            futures = [pool.submit(_fetch, job, settings, client) for job in jobs]
            for future in as_completed(futures):
                if fetched:
                    fetched(future.result().job.name)
            outcomes = [f.result() for f in futures]
    finally:
        if client is not None:
            client.close()
    _parse(outcomes, settings)
    # one transaction for the whole run: a commit per source was most of a re-poll's store time (200 unchanged
    # feeds: 200 commits of one UPDATE each); a crash before the end loses only this run's records, and the next
    # run fetches again
    with store.transaction():
        for outcome in outcomes:
            result = _store_outcome(store, outcome, now, keep_sponsored=settings.sponsored == "keep")
            report.sources.append(result)
            if progress:
                progress(result)
    return report


def _store_outcome(store: Store, outcome: _Outcome, now: datetime, *, keep_sponsored: bool = False) -> SourceResult:
    job = outcome.job
    notes = (
        [f"{len(outcome.errors)} file(s) skipped: " + "; ".join(outcome.errors)]
        if (outcome.errors and outcome.documents)
        else []
    )
    several = len(outcome.documents) + len(outcome.errors) > 1
    notes += [f"{Path(loc).name}: {d.warning}" if several else d.warning for loc, d in outcome.documents if d.warning]
    feed_title, site = _feed_identity(outcome)
    if job.adhoc and job.source_id is None and outcome.error is None and outcome.documents:
        name = default_name(store, job.location, feed_title)
        job.source_id, job.name = store.add_source(name, job.location).id, name
    result = SourceResult(job.name, job.location, error=outcome.error, warning="; ".join(notes) or None)
    kind = None
    if outcome.error is None and not outcome.not_modified:
        key = str(job.source_id) if job.source_id is not None else job.location
        pairs: list[tuple[str, StoryIn]] = []
        shared: set[str] = set()
        for doc_location, doc in outcome.documents:
            doc_key = key if doc_location == job.location else f"{key}\0{doc_location}"
            if doc_location in outcome.file_times:
                for story in doc.stories:
                    story.published_at = story.published_at or outcome.file_times[doc_location]
            stories = doc.stories if keep_sponsored else [s for s in doc.stories if not is_sponsored(s)]
            result.sponsored += len(doc.stories) - len(stories)
            identified, doc_shared = identify(doc_key, clamp_dates(stories, now))
            pairs.extend(identified)
            shared |= doc_shared
        kinds = sorted({d.kind for _, d in outcome.documents})
        kind = kinds[0] if len(kinds) == 1 else "mixed"
        result.new, result.updated, result.unchanged = store.upsert_stories(
            job.source_id, pairs, now, shared_urls=shared
        )
    elif outcome.error is None and job.source_id is not None:  # not modified: everything it holds is unchanged
        result.unchanged = store.source_story_count(job.source_id)
    if job.source_id is not None:
        if outcome.error:
            store.record_fetch(job.source_id, error=outcome.error, now=now)
        else:
            store.record_fetch(
                job.source_id,
                etag=outcome.etag,
                last_modified=outcome.last_modified,
                content_hash=job.content_hash if outcome.not_modified else outcome.content_hash,
                kind=kind,
                warning=result.warning,
                not_modified=outcome.not_modified,
                now=now,
                feed_title=feed_title,
                site=site,
            )
    return result


def _feed_identity(outcome: _Outcome) -> tuple[str | None, str | None]:
    """The feed's own title (a page's site name) and its site's host, when the documents agree on them.

    ``None`` keeps what the source had (an unchanged source was not parsed this time).
    """
    if outcome.not_modified or not outcome.documents:
        return None, None
    titles = {d.title for _, d in outcome.documents}
    title = titles.pop() if len(titles) == 1 else None
    hosts = {urlsplit(d.link).hostname or "" if d.link else "" for _, d in outcome.documents}
    host = hosts.pop() if len(hosts) == 1 else ""
    if not host and is_url(outcome.job.location):
        host = urlsplit(outcome.job.location).hostname or ""
    return title or "", host.removeprefix("www.")
