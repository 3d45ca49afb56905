"""Plain records passed between the stages. No behaviour, no I/O."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, overload


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


@dataclass
class ParsedDocument:
    """What one fetched or read document yielded."""

    stories: list[StoryIn]
    kind: str  # rss | atom | jsonfeed | html | text
    title: str | None = None
    warning: str | None = None  # set for a partial ingest of a broken document


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
