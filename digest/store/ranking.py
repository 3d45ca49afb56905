"""Queries ranking needs: candidates in the window, pins, and what a list was already sent."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from digest.models import iso
from digest.store.base import QueryBase
from digest.store.stories import _story


class RankQueries(QueryBase):
    def candidates(self, since: datetime, until: datetime) -> list[dict[str, Any]]:
        """Stories in the ranking window, with their source's name and weight."""
        return [
            _story(r)
            for r in self.rows(
                "SELECT stories.id, stories.title, stories.url, stories.summary, stories.published_at,"
                " stories.comments, stories.engagement, stories.tags, stories.pinned, stories.source_id,"
                " stories.image_url, sources.name AS source, coalesce(sources.weight, 1.0) AS source_weight"
                " FROM stories LEFT JOIN sources ON sources.id = stories.source_id"
                " WHERE (stories.published_at >= ? AND stories.published_at <= ?) OR stories.pinned = 1"
                " ORDER BY stories.id",
                (iso(since), iso(until)),
            )
        ]

    def set_pinned(self, story_id: int, pinned: bool) -> None:
        self.story(story_id)
        self.conn.execute("UPDATE stories SET pinned = ? WHERE id = ?", (int(pinned), story_id))

    def sent_story_ids(self, list_id: int, before_date: str | None = None) -> set[int]:
        """Stories that went out in an earlier edition of this list."""
        sql = (
            "SELECT DISTINCT edition_stories.story_id FROM edition_stories"
            " JOIN editions ON editions.id = edition_stories.edition_id WHERE editions.list_id = ?"
        )
        params: list[Any] = [list_id]
        if before_date is not None:
            sql += " AND editions.date < ?"
            params.append(before_date)
        return {r[0] for r in self.conn.execute(sql, params)}
