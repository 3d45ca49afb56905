"""A story's stable identity, so that collecting again updates instead of duplicating."""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterable

from digest.models import StoryIn


def identity(source_key: str, story: StoryIn) -> str:
    """Feed guid (scoped to its source), else canonical URL, else a hash of the content."""
    if story.guid:
        return "guid:" + hashlib.sha1(f"{source_key}\0{story.guid}".encode("utf-8", "surrogatepass")).hexdigest()
    if story.url:
        return "url:" + story.url
    body = f"{story.title}\0{story.body_text or story.summary}"
    return "hash:" + hashlib.sha256(body.encode("utf-8", "surrogatepass")).hexdigest()


def identify(source_key: str, stories: Iterable[StoryIn]) -> tuple[list[tuple[str, StoryIn]], set[str]]:
    """``(identity, story)`` pairs for one document, and the canonical URLs several of its items share.

    Feeds do repeat a guid for distinct items (Scripting News has two pairs): the second and later items
    with the same key get ``#2``, ``#3`` appended, in document order, so each is kept and each is found
    again next time. Links that differ only by their fragment keep it. A URL still shared by several items
    does not name one story, so it is not used to match stories from other feeds.
    """
    stories = list(stories)
    # items whose links differ only by #fragment (a day page's entries) are distinct posts: keep the fragment,
    # so each has its own identity and its link still points at the post
    by_url = Counter(s.url for s in stories if s.url)
    for story in stories:
        if story.url and story.fragment and by_url[story.url] > 1 and "#" not in story.url:
            story.url = f"{story.url}#{story.fragment}"
    seen: Counter[str] = Counter()
    pairs = []
    for story in stories:
        key = identity(source_key, story)
        seen[key] += 1
        pairs.append((key if seen[key] == 1 else f"{key}#{seen[key]}", story))
    urls = Counter(s.url for s in stories if s.url)
    return pairs, {url for url, n in urls.items() if n > 1}
