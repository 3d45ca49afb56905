"""What the editor's desk shows, worked out for the page: score bars in parts, with their legend and words.

Presentation only (widths, labels, rounding); the parts themselves come from the library's draft of the edition.
A score is ``source_factor × (recency + engagement + coverage + keywords) + pin``: the bar shows the four
additive parts as they are, what the source's weight adds (or, below 1, the parts shrunk by it) and the pin.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

# (key, label, what it means): the order of the bar's segments and of the legend
PARTS: tuple[tuple[str, str, str], ...] = (
    ("recency", "Recency", "how new the story is (halves every half-life)"),
    ("source", "Source", "what the source's weight adds"),
    ("engagement", "Engagement", "comments, points and shares, against the day's busiest story"),
    ("coverage", "Coverage", "how many other outlets covered it"),
    ("keywords", "Keywords", "the editor's boost words it matches"),
    ("pin", "Pin", "pinned by the editor"),
)
LABELS = {key: label for key, label, _ in PARTS}


@dataclass(frozen=True)
class Segment:
    key: str
    label: str
    value: float  # what this part adds to the score
    width: float  # percent of the widest score on the page


@dataclass(frozen=True)
class Bar:
    score: float
    segments: tuple[Segment, ...]
    factor: float  # the source's weight factor
    words: str  # the bar in a sentence, for screen readers and the tooltip

    @property
    def width(self) -> float:
        return sum(s.width for s in self.segments)


def _num(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return 0.0


def contributions(parts: Mapping[str, Any]) -> tuple[dict[str, float], float]:
    """({part: what it adds to the score}, the source factor) from a draft story's ``parts`` (``source`` is a
    factor, the others add up; see :data:`digest.models.SCORE_PARTS`)."""
    factor = _num(parts.get("source", 1.0))
    base = {k: _num(parts.get(k)) for k in ("recency", "engagement", "coverage", "keywords")}
    total = sum(base.values())
    if factor >= 1:
        out = {**base, "source": (factor - 1) * total}
    else:  # a weight below 1 shrinks every part: show them shrunk, and the source as what it took away
        out = {k: v * factor for k, v in base.items()} | {"source": (factor - 1) * total}
    out["pin"] = _num(parts.get("pin"))
    return out, factor


def bar(score_parts: Mapping[str, Any], score: float, widest: float) -> Bar:
    parts, factor = contributions(score_parts)
    scale = 100.0 / widest if widest > 0 else 0.0
    segments = tuple(
        Segment(key, LABELS[key], parts[key], round(parts[key] * scale, 2))
        for key, _, _ in PARTS
        if parts[key] > 0.0005
    )
    said = [f"{LABELS[k].lower()} {_signed(v)}" for k, _, _ in PARTS if abs(v := parts[k]) > 0.0005]
    words = f"score {score:.2f}" + (": " + ", ".join(said) if said else "")
    if factor != 1:
        words += f" (source weight ×{factor:.2f})"
    return Bar(score, segments, factor, words)


def _signed(value: float) -> str:
    return f"{value:.2f}" if value >= 0 else f"−{abs(value):.2f}"


def widest(scores: Iterable[float]) -> float:
    return max((s for s in scores), default=0.0)


__all__ = ["PARTS", "Bar", "Segment", "bar", "contributions", "widest"]
