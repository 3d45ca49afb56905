"""The parts of a story's score, computed for the whole window at once with numpy.

score = source_factor × (recency + engagement + coverage + keywords) + pinned, where each part is
already multiplied by its weight from ``[rank]`` in digest.toml:

- recency: ``recency_weight × 0.5 ** (age / half_life_hours)``; a story dated in the future counts as
  new, never newer, and one whose date cannot be trusted (missing, or in the future and clamped by
  collection) counts as at least ``undated_age_hours`` old, so far-future dates never top the ranking;
- engagement: ``engagement_weight × log(1 + figures) / log(1 + the window's highest figures)``;
- coverage: ``coverage_weight × log2(outlets)``, outlets being the distinct sources of the cluster;
- keywords: ``keyword_weight ×`` the number of distinct boost words or phrases in the title or lead;
- source_factor: the source's weight raised to ``source_weight``; pinned: ``pin_boost``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from digest.config import RankSettings
from digest.store.ranking import WINDOW_COLUMNS


@dataclass
class Window:
    """Every candidate story's figures as columns (one numpy array per column of the window query)."""

    id: np.ndarray
    source_id: np.ndarray
    weight: np.ndarray
    age_hours: np.ndarray
    undated: np.ndarray
    engagement: np.ndarray
    pinned: np.ndarray
    hint: np.ndarray

    @classmethod
    def from_chunks(cls, chunks: Iterable[list[tuple[float, ...]]]) -> Window:
        """Read the window query chunk by chunk, so that no more than one chunk of Python tuples is alive."""
        parts = [np.array(rows, dtype=np.float64) for rows in chunks]
        data = np.concatenate(parts) if parts else np.zeros((0, len(WINDOW_COLUMNS)))
        cols = {name: data[:, i] for i, name in enumerate(WINDOW_COLUMNS)}
        for name in ("id", "source_id"):
            cols[name] = cols[name].astype(np.int64)
        for name in ("undated", "pinned", "hint"):
            cols[name] = cols[name].astype(bool)
        return cls(**cols)

    def __len__(self) -> int:
        return len(self.id)


@dataclass
class Parts:
    """Score parts of every story in the window, before coverage and keywords (known only for the pool)."""

    age: np.ndarray
    recency: np.ndarray
    engagement: np.ndarray
    factor: np.ndarray
    pinned: np.ndarray

    def base(self) -> np.ndarray:
        return self.factor * (self.recency + self.engagement) + self.pinned


def parts(w: Window, s: RankSettings) -> Parts:
    age = np.maximum(w.age_hours, 0.0)
    age = np.where(w.undated, np.maximum(age, s.undated_age_hours), age)
    recency = s.recency_weight * np.power(0.5, age / max(s.half_life_hours, 0.01))
    figures = np.maximum(w.engagement, 0.0)
    top = float(figures.max()) if len(figures) else 0.0
    engagement = s.engagement_weight * np.log1p(figures) / math.log1p(top) if top > 0 else np.zeros(len(w))
    factor = np.power(np.maximum(w.weight, 0.0), s.source_weight)
    pinned = np.where(w.pinned, s.pin_boost, 0.0)
    return Parts(age, recency, engagement, factor, pinned)


def coverage(outlets: int, s: RankSettings) -> float:
    return s.coverage_weight * math.log2(max(outlets, 1))


class Keywords:
    """Whole-word, case-insensitive matching of an editor's boost or block words and phrases."""

    def __init__(self, terms: list[str]) -> None:
        self.terms = sorted({t.strip().lower() for t in terms if t.strip()})
        alternation = "|".join(re.escape(t) for t in sorted(self.terms, key=len, reverse=True))
        self.pattern = re.compile(rf"(?<!\w)(?:{alternation})(?!\w)", re.IGNORECASE) if self.terms else None

    def __bool__(self) -> bool:
        return bool(self.terms)

    def found(self, *texts: str) -> list[str]:
        """The distinct terms found in ``texts``, in order of the term list."""
        if self.pattern is None:
            return []
        hits = {m.group(0).lower() for text in texts for m in self.pattern.finditer(text)}
        return [t for t in self.terms if t in hits]
