"""Ranking: choose the day's Top Stories the way an editor would, and say why.

First version: recency (exponential decay with a half-life) times the source's weight; stories
already sent to the list are left out; at most ``per_source`` stories from one source.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from digest.config import RankSettings
from digest.models import Ranked, parse_iso
from digest.store import Store


@dataclass
class RankResult:
    picked: list[Ranked] = field(default_factory=list)
    runners_up: list[Ranked] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        def one(r: Ranked, rank: int | None) -> dict[str, Any]:
            d = {"story_id": r.story_id, "title": r.title, "url": r.url, "source": r.source,
                 "score": round(r.score, 6), "why": r.why, "also": r.also}
            if rank is not None:
                d["rank"] = rank
            if r.reason:
                d["reason"] = r.reason
            return d

        return {"stories": [one(r, i) for i, r in enumerate(self.picked, 1)],
                "runners_up": [one(r, None) for r in self.runners_up]}


def rank(store: Store, settings: RankSettings, now: datetime, list_row: dict[str, Any] | None = None,
         limit: int | None = None) -> RankResult:
    window_start = now - timedelta(hours=settings.window_hours)
    rows = store.candidates(window_start, now)
    sent = store.sent_story_ids(list_row["id"], now.date().isoformat()) if list_row else set()
    half_life = max(settings.half_life_hours, 0.01)
    scored: list[Ranked] = []
    for row in rows:
        published = parse_iso(row["published_at"]) or now
        age_h = max((now - published).total_seconds() / 3600.0, 0.0)
        recency = math.pow(0.5, age_h / half_life)
        weight = float(row["source_weight"])
        score = settings.recency_weight * recency * (weight ** settings.source_weight)
        why = {"recency": round(recency, 6), "age_hours": round(age_h, 2), "source_weight": weight}
        if row["pinned"]:
            score += settings.pin_boost
            why["pinned"] = settings.pin_boost
        item = Ranked(row["id"], row["title"], row["url"], row["source"], score, why)
        if row["id"] in sent:
            item.picked, item.reason = False, "sent in an earlier edition"
        scored.append(item)
    scored.sort(key=lambda r: (-r.score, r.story_id))
    result = RankResult()
    per_source: dict[str | None, int] = {}
    max_n = limit or settings.max_stories
    for item in scored:
        if not item.picked:
            result.runners_up.append(item)
            continue
        if item.score < settings.min_score:
            item.picked, item.reason = False, f"score below min_score {settings.min_score}"
        elif per_source.get(item.source, 0) >= settings.per_source:
            item.picked, item.reason = False, f"already {settings.per_source} stories from {item.source}"
        elif len(result.picked) >= max_n:
            item.picked, item.reason = False, f"below the top {max_n}"
        if item.picked:
            per_source[item.source] = per_source.get(item.source, 0) + 1
            result.picked.append(item)
        else:
            result.runners_up.append(item)
    return result
