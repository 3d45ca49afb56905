"""The store hands out sources and stories as frozen records, not rows."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from digest.collect import collect
from digest.config import load
from digest.models import Source, StoredStory
from digest.store import Store
from tests.support import NOW
from tests.support.collect import rss, write


def test_sources_and_stories_come_back_as_frozen_records(store: Store, initialised: Path, tmp_path: Path) -> None:
    path = write(
        tmp_path / "feed.xml",
        rss([{"title": "One", "link": "https://site.example/one", "guid": "g1", "description": "About one."}]),
    )
    added = store.add_source("site", str(path), weight=2.0, tags=["local"])
    assert isinstance(added, Source) and added.tags == ("local",) and added.weight == 2.0
    collect(store, load(initialised), now=NOW)
    source = store.source("site")
    assert source.kind == "rss" and source.last_success_at and source.consecutive_failures == 0
    line = store.stories()[0]
    story = store.story(line.id)
    assert isinstance(story, StoredStory)
    assert (story.title, story.url, story.source, story.source_weight) == (
        "One",
        "https://site.example/one",
        "Test feed",  # readers see the feed's own title, not the source's name
        2.0,
    )
    assert story.as_dict()["summary"] == story.summary and story.pinned is False
    with pytest.raises(dataclasses.FrozenInstanceError):
        story.title = "changed"  # type: ignore[misc]
    assert store.remove_source("site").id == added.id
    assert store.story(line.id).source is None  # the story outlives its source
