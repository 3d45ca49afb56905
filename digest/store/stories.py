"""Queries on stories: upserting what collection found, reading what ranking needs."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from digest import clock
from digest.errors import NotFoundError
from digest.models import StoredStory, StoryIn, StoryLine, iso
from digest.store.base import QueryBase, dumps, loads
from digest.store.sources import DISPLAY_NAME

STORY_FIELDS = (
    "guid",
    "url",
    "title",
    "author",
    "published_at",
    "summary",
    "body_text",
    "body_html",
    "image_url",
    "tags",
    "language",
    "comments",
    "engagement",
)


def content_hash(story: StoryIn) -> str:
    h = hashlib.sha256()
    for part in (
        story.title,
        story.url or "",
        story.summary,
        story.body_text,
        story.body_html,
        story.image_url or "",
        story.author or "",
        dumps(story.engagement),
        dumps(story.tags),
    ):
        h.update(part.encode("utf-8", "surrogatepass"))
        h.update(b"\0")
    return h.hexdigest()


def _story(row: dict[str, Any]) -> StoredStory:
    return StoredStory(
        id=row["id"],
        identity=row["identity"],
        source_id=row["source_id"],
        title=row["title"],
        url=row["url"],
        guid=row["guid"],
        author=row["author"],
        published_at=row["published_at"],
        collected_at=row["collected_at"],
        updated_at=row["updated_at"],
        summary=row["summary"],
        body_text=row["body_text"],
        body_html=row["body_html"],
        image_url=row["image_url"],
        tags=tuple(loads(row["tags"], [])),
        language=row["language"],
        comments=row["comments"],
        engagement=loads(row["engagement"], {}),
        pinned=bool(row["pinned"]),
        source=row["source"],
        source_weight=row["source_weight"],
    )


class StoryQueries(QueryBase):
    def upsert_stories(
        self,
        source_id: int | None,
        stories: Iterable[tuple[str, StoryIn]],
        now: datetime | None = None,
        *,
        shared_urls: set[str] | frozenset[str] = frozenset(),
    ) -> tuple[int, int, int]:
        """Store ``(identity, story)`` pairs; returns counts (new, updated, unchanged).

        A story is found by its identity (or a further identity recorded for it), else by canonical URL
        unless that URL is in ``shared_urls`` (several items of one document share it, so it does not name
        one story). Found by URL from another source: the same article in a second feed of the site, so
        the new identity is recorded for it and it counts as unchanged (the first source's text stays).
        Found by URL from the same source (its guid changed) or by identity: updated in place when the
        content changed, else unchanged. Collecting twice adds nothing.
        """
        collected = iso(now or clock.now())
        new = updated = unchanged = 0
        conn = self.conn
        with self.transaction():
            for identity, story in stories:
                digest_ = content_hash(story)
                values = {
                    "guid": story.guid,
                    "url": story.url,
                    "title": story.title,
                    "author": story.author,
                    "published_at": iso(story.published_at) or collected,
                    "summary": story.summary,
                    "body_text": story.body_text,
                    "body_html": story.body_html,
                    "image_url": story.image_url,
                    "tags": dumps(story.tags),
                    "language": story.language,
                    "comments": story.comments,
                    "engagement": dumps(story.engagement),
                }
                found = conn.execute("SELECT id, content_hash FROM stories WHERE identity = ?", (identity,)).fetchone()
                alias = False
                if found is None:
                    found = conn.execute(
                        "SELECT story_id, content_hash FROM story_identities WHERE identity = ?", (identity,)
                    ).fetchone()
                    alias = found is not None
                if found is None and story.url and story.url not in shared_urls:
                    by_url = conn.execute(
                        "SELECT id, content_hash, source_id FROM stories WHERE url = ? LIMIT 1", (story.url,)
                    ).fetchone()
                    if by_url is not None and (source_id is None or by_url[2] != source_id):
                        conn.execute(
                            "INSERT OR REPLACE INTO story_identities(identity, story_id, source_id, content_hash)"
                            " VALUES (?, ?, ?, ?)",
                            (identity, by_url[0], source_id, digest_),
                        )
                        unchanged += 1
                        continue
                    found = by_url[:2] if by_url is not None else None
                if found is None:
                    cols = ["identity", "source_id", "collected_at", "content_hash", *values]
                    conn.execute(
                        f"INSERT INTO stories({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})",
                        (identity, source_id, collected, digest_, *values.values()),
                    )
                    new += 1
                elif found[1] == digest_:
                    unchanged += 1
                else:
                    sets = ", ".join(f"{k} = ?" for k in values)
                    if alias:
                        conn.execute(
                            "UPDATE story_identities SET content_hash = ? WHERE identity = ?", (digest_, identity)
                        )
                        conn.execute(
                            f"UPDATE stories SET {sets}, updated_at = ? WHERE id = ?",
                            (*values.values(), collected, found[0]),
                        )
                    else:
                        conn.execute(
                            f"UPDATE stories SET {sets}, content_hash = ?, updated_at = ? WHERE id = ?",
                            (*values.values(), digest_, collected, found[0]),
                        )
                    updated += 1
        return new, updated, unchanged

    def story(self, story_id: int) -> StoredStory:
        row = self.row(
            f"SELECT stories.*, {DISPLAY_NAME} AS source, sources.weight AS source_weight FROM stories"
            " LEFT JOIN sources ON sources.id = stories.source_id WHERE stories.id = ?",
            (story_id,),
        )
        if row is None:
            raise NotFoundError(f"no story with id {story_id}: see 'digest stories list'")
        return _story(row)

    def stories(self, since: datetime | None = None, limit: int | None = None) -> list[StoryLine]:
        sql = (
            "SELECT stories.id, stories.title, stories.url, stories.published_at, stories.collected_at,"
            f" stories.pinned, {DISPLAY_NAME} AS source FROM stories"
            " LEFT JOIN sources ON sources.id = stories.source_id"
        )
        params: list[Any] = []
        if since is not None:
            sql += " WHERE stories.published_at >= ?"
            params.append(iso(since))
        sql += " ORDER BY stories.published_at DESC, stories.id DESC"
        if limit:
            sql += " LIMIT ?"
            params.append(limit)
        return [
            StoryLine(
                r["id"], r["title"], r["url"], r["published_at"], r["collected_at"], bool(r["pinned"]), r["source"]
            )
            for r in self.rows(sql, params)
        ]
