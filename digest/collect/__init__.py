"""Collection: fetch or read every source, parse and clean its stories, store them.

A broken source is reported in the :class:`CollectReport` and the run goes on with the others.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from digest.collect.fetch import fetch_url, is_url, read_file
from digest.collect.parse import parse_document
from digest.config import Config
from digest.errors import SourceError
from digest.models import ParsedDocument, StoryIn, utcnow
from digest.store import Store


@dataclass
class SourceResult:
    name: str
    location: str
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    error: str | None = None
    warning: str | None = None


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
        return {"new": self.new, "updated": self.updated, "unchanged": self.unchanged, "failed": self.failed,
                "sources": [asdict(s) for s in self.sources]}


def identity(source_key: str, story: StoryIn) -> str:
    """A story's stable identity: feed guid (per source), else canonical URL, else content hash."""
    if story.guid:
        return "guid:" + hashlib.sha1(f"{source_key}\0{story.guid}".encode()).hexdigest()
    if story.url:
        return "url:" + story.url
    body = f"{story.title}\0{story.body_text or story.summary}"
    return "hash:" + hashlib.sha256(body.encode("utf-8", "surrogatepass")).hexdigest()


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


@dataclass
class _Outcome:
    job: _Job
    documents: list[tuple[str, ParsedDocument]] = field(default_factory=list)
    error: str | None = None
    warning: str | None = None
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


def _run(job: _Job, config: Config) -> _Outcome:
    settings = config.settings.collect
    outcome = _Outcome(job)
    try:
        if is_url(job.location):
            got = fetch_url(job.location, settings, etag=job.etag, last_modified=job.last_modified)
            outcome.etag, outcome.last_modified = got.etag, got.last_modified
            if got.data is None:
                outcome.not_modified = True
                return outcome
            outcome.content_hash = hashlib.sha256(got.data).hexdigest()
            if outcome.content_hash == job.content_hash:
                outcome.not_modified = True
                return outcome
            outcome.documents.append((job.location, parse_document(got.data, got.url)))
        else:
            files = _documents(job.location)
            h = hashlib.sha256()
            blobs = []
            for path in files:
                data = read_file(path, settings.max_bytes)
                h.update(str(path).encode() + b"\0" + data)
                blobs.append((path, data))
            outcome.content_hash = h.hexdigest()
            if outcome.content_hash == job.content_hash:
                outcome.not_modified = True
                return outcome
            errors = []
            for path, data in blobs:
                try:
                    outcome.documents.append((str(path), parse_document(data, None)))
                except SourceError as exc:
                    errors.append(f"{path.name}: {exc}")
            if errors and not outcome.documents:
                outcome.error = "; ".join(errors)
            elif errors:
                outcome.warning = f"{len(errors)} file(s) skipped: " + "; ".join(errors)
        warnings = [d.warning for _, d in outcome.documents if d.warning]
        if warnings:
            outcome.warning = "; ".join(filter(None, [outcome.warning, *warnings]))
    except SourceError as exc:
        outcome.error = str(exc)
    return outcome


def collect(
    store: Store, config: Config, locations: list[str] | None = None, *,
    now: datetime | None = None, progress: Callable[[SourceResult], None] | None = None,
) -> CollectReport:
    """Collect every source (or just ``locations``) into the store."""
    now = now or utcnow()
    jobs: list[_Job] = []
    if locations:
        for location in locations:
            known = store.source_by_location(location)
            if known:
                jobs.append(_Job(known["name"], location, known["id"], known["etag"], known["last_modified"],
                                 known["content_hash"]))
            else:
                jobs.append(_Job(Path(location).name if not is_url(location) else location, location, None))
    else:
        jobs = [_Job(s["name"], s["location"], s["id"], s["etag"], s["last_modified"], s["content_hash"])
                for s in store.sources()]
    report = CollectReport()
    workers = max(1, min(config.settings.collect.concurrency, len(jobs) or 1))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for outcome in pool.map(lambda j: _run(j, config), jobs):
            result = _store_outcome(store, outcome, now)
            report.sources.append(result)
            if progress:
                progress(result)
    return report


def _store_outcome(store: Store, outcome: _Outcome, now: datetime) -> SourceResult:
    job = outcome.job
    result = SourceResult(job.name, job.location, error=outcome.error, warning=outcome.warning)
    if outcome.error is None and not outcome.not_modified:
        key = str(job.source_id) if job.source_id is not None else job.location
        pairs = []
        for doc_location, doc in outcome.documents:
            doc_key = key if doc_location == job.location else f"{key}\0{doc_location}"
            pairs.extend((identity(doc_key, s), s) for s in clamp_dates(doc.stories, now))
        result.new, result.updated, result.unchanged = store.upsert_stories(job.source_id, pairs, now)
    if job.source_id is not None:
        if outcome.error:
            store.record_fetch(job.source_id, error=outcome.error)
        else:
            store.record_fetch(job.source_id, etag=outcome.etag, last_modified=outcome.last_modified,
                               content_hash=outcome.content_hash if not outcome.not_modified else job.content_hash)
    return result
