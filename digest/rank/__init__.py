"""Ranking: choose the day's Top Stories the way an editor would, and say why.

1. Every story in the window (plus the list's pinned ones and, for history, what the list was already sent)
   gets its score parts at once (:mod:`digest.rank.score`).
2. The ``cluster_pool`` best of them, with every pinned, boosted or already-sent story, are
   clustered into events (:mod:`digest.rank.cluster`); an event's outlets add
   coverage, its best-scoring version stands for it and the others become "also covered by".
3. Events are taken in score order (ties: lowest story id) while the edition has room, skipping
   blocked ones, ones the editor dropped from the list (any member counts: the event is out), ones that went
   out in an earlier edition of the list (any member counts), ones below
   ``min_score`` and ones whose source already has ``per_source`` stories; each runner-up says why.

A list restricted to some sources (``lists add/edit --source/--tag``) ranks the same window, clustered over
every source, so that coverage still counts every outlet that ran the event and "also covered by" may name
outlets outside the list. Only events with a story from the list's sources enter its edition (others are not
even runners-up), each led by its best such story: an edition never leads with a story from elsewhere.

The same store and the same ``now`` always give the same result.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date as date_type
from datetime import datetime, timedelta
from typing import Any

import numpy as np

from digest.config import RankSettings
from digest.models import MailingList, Ranked, iso
from digest.rank.cluster import cluster, components
from digest.rank.score import Keywords, Window, coverage, parts
from digest.store import Store


@dataclass
class RankResult:
    picked: list[Ranked] = field(default_factory=list)
    runners_up: list[Ranked] = field(default_factory=list)
    considered: int = 0  # stories in the window (with pinned and already-sent ones)
    pool: int = 0  # stories compared for near-duplicates
    clusters: int = 0  # events the pool made
    in_scope: int | None = None  # stories of the window from the list's sources (None: the list takes every source)
    list: str | None = None
    now: str | None = None
    advice: str | None = None  # what to change when the window holds nothing (set only then)

    def as_dict(self) -> dict[str, Any]:
        def one(r: Ranked, rank: int | None) -> dict[str, Any]:
            d: dict[str, Any] = {
                "story_id": r.story_id,
                "title": r.title,
                "url": r.url,
                "source": r.source,
                "score": round(r.score, 6),
                "why": r.why,
                "also": r.also,
            }
            if rank is not None:
                d = {"rank": rank, **d}
            if r.reason:
                d["reason"] = r.reason
            return d

        return {
            "now": self.now,
            "list": self.list,
            "considered": self.considered,
            "pool": self.pool,
            "clusters": self.clusters,
            **({"in_scope": self.in_scope} if self.in_scope is not None else {}),
            "stories": [one(r, i) for i, r in enumerate(self.picked, 1)],
            "runners_up": [one(r, None) for r in self.runners_up],
            **({"advice": self.advice} if self.advice else {}),
        }


@dataclass
class _Event:
    members: list[int]  # positions in the window
    rep: int
    score: float
    outlets: int
    reason: str | None = None
    outlet_of: dict[int, int] = field(default_factory=dict)  # member -> its outlet's label


def _age(hours: float) -> str:
    days, rest = divmod(int(hours), 24)
    if not days:
        return f"{int(hours)} hour(s)"
    return f"{days} day(s)" + (f" {rest} hour(s)" if rest else "")


def empty_window_advice(store: Store, settings: RankSettings, now: datetime) -> str:
    """Why the window is empty, and the setting that changes it: the window, not the bar."""
    newest = store.newest_story(now)
    if newest is None:
        return "no stories are stored yet: add sources and run 'digest collect'"
    story_id, published = newest
    hours = (now - published).total_seconds() / 3600
    return (
        f"every story is older than the {settings.window_hours:g}-hour window: the newest (story {story_id}) is"
        f" {_age(hours)} old; collect fresh stories, or widen [rank] window_hours to at least {int(hours) + 1}"
    )


def scope_advice(list_row: MailingList, source_ids: frozenset[int]) -> str:
    """Why a list restricted to some sources has nothing in the window, and what to change."""
    said = [f"--source {n}" for n in list_row.sources] + [f"--tag {t}" for t in list_row.tags]
    what = " ".join(said)
    if not source_ids:
        return (
            f"no source matches the list's scope ({what}): tag a source ('digest sources edit NAME --tag TAG'),"
            f" or widen the list ('digest lists edit {list_row.name} --source '' --tag ''' for every source)"
        )
    return (
        f"no story in the window comes from the list's {len(source_ids)} source(s) ({what}): collect them,"
        f" or widen the list's scope ('digest lists edit {list_row.name} --tag TAG' or --source NAME)"
    )


def _one_per_outlet(event: _Event) -> list[int]:
    """The best version from each other outlet (members are in score order): an outlet is never listed twice,
    and the story's own outlet is not "also" covering it."""
    seen = {event.outlet_of.get(event.rep)}
    out = []
    for j in event.members:
        label = event.outlet_of.get(j)
        if label not in seen:
            seen.add(label)
            out.append(j)
    return out


def rank(
    store: Store,
    settings: RankSettings,
    now: datetime,
    list_row: MailingList | None = None,
    limit: int | None = None,
    date: str | None = None,
    source_ids: frozenset[int] | None = None,
    *,
    history: dict[int, tuple[int, str]] | None = None,
) -> RankResult:
    """What the edition of ``list_row`` dated ``date`` (default: ``now``'s date) would hold as of ``now``.

    ``source_ids``: the sources the list draws from, when the caller has worked them out already (several lists
    ranked over one window, or a variant for readers' topics); by default they come from ``list_row``'s scope, and
    a list without one (or no list) draws from every source. ``history`` replaces the list's own (what a variant's
    readers already got).
    """
    max_n = limit or settings.max_stories
    day = date or now.date().isoformat()
    boost = Keywords(list(list_row.boost if list_row else ()) or settings.boost)
    block = Keywords(list(list_row.block if list_row else ()) or settings.block)
    picks = store.list_picks(list_row.id) if list_row is not None else {}  # pins and drops are each list's own
    pins = [story_id for story_id, pick in picks.items() if pick == "pin"]
    drops = np.array([story_id for story_id, pick in picks.items() if pick == "drop"], dtype=np.int64)
    if history is None and list_row is not None:
        since = (date_type.fromisoformat(day) - timedelta(days=settings.history_days)).isoformat()
        history = store.sent_history(list_row.id, day, since)
    history = history or {}
    w = Window.from_chunks(
        store.rank_window(
            now - timedelta(hours=settings.window_hours),
            now,
            extra_ids=history,
            pinned_ids=pins,
            hint_terms=boost.terms,
        )
    )
    result = RankResult(considered=len(w), list=list_row.name if list_row else None, now=iso(now))
    if not len(w):
        result.advice = empty_window_advice(store, settings, now)
        return result
    if source_ids is None and list_row is not None:
        source_ids = store.scope_source_ids(list_row.sources, list_row.tags)
    in_scope = np.ones(len(w), dtype=bool)
    if source_ids is not None:
        in_scope = np.isin(w.source_id, np.fromiter(source_ids, dtype=np.int64, count=len(source_ids)))
        result.in_scope = int(in_scope.sum())
        if not result.in_scope:
            result.advice = (
                scope_advice(list_row, source_ids)
                if list_row
                else "no story in the window comes from the given sources"
            )
            return result
    p = parts(w, settings)
    base = p.base()

    in_pool = np.zeros(len(w), dtype=bool)
    in_pool[np.lexsort((w.id, -base))[: max(settings.cluster_pool, 1)]] = True
    if source_ids is not None:  # the list's own best stories are compared even when the others outscore them
        scoped = np.flatnonzero(in_scope)
        in_pool[scoped[np.lexsort((w.id[scoped], -base[scoped]))[: max(settings.cluster_pool, 1)]]] = True
    in_pool |= w.pinned | w.hint | np.isin(w.id, np.fromiter(history, dtype=np.int64, count=len(history)))
    in_pool |= np.isin(w.id, drops)  # a dropped story's event must be found to be kept out
    pool = np.flatnonzero(in_pool)
    pool = pool[np.argsort(w.id[pool], kind="stable")].tolist()
    by_id = store.rank_texts(w.id[pool].tolist())
    texts = {i: by_id[int(w.id[i])] for i in pool}
    title = {i: texts[i][0] for i in pool}
    lead = {i: texts[i][1] for i in pool}
    labels = cluster(
        [title[i] for i in pool],
        [lead[i] for i in pool],
        [texts[i][4] for i in pool],
        similarity=settings.similarity,
        title_similarity=settings.title_similarity,
        sources=[int(w.source_id[i]) or -1 - k for k, i in enumerate(pool)],  # a story without a source: its own
    )
    sites = store.source_sites()

    def outlet(i: int) -> str:
        source_id = int(w.source_id[i])
        return sites.get(source_id, f"source:{source_id}") if source_id else f"story:{int(w.id[i])}"

    result.pool = len(pool)

    boosted = {i: boost.found(title[i], lead[i], texts[i][2]) for i in pool} if boost else {}
    blocked = {i: block.found(title[i], lead[i], texts[i][2]) for i in pool} if block else {}
    groups: dict[int, list[int]] = {}
    for i, label in zip(pool, labels, strict=True):
        groups.setdefault(pool[label], []).append(i)

    def score(i: int, cover: float) -> float:
        kw = settings.keyword_weight * len(boosted.get(i, ()))
        return float(p.factor[i] * (p.recency[i] + p.engagement[i] + kw + cover) + p.pinned[i])

    events: list[_Event] = []
    for members in groups.values():
        # one outlet: one site (its RSS, Atom and JSON feeds), or the same post (title and date) in another feed
        by_outlet: dict[str, int] = {}
        by_post: dict[tuple[str, str], int] = {}
        links = []
        for k, i in enumerate(members):
            links.append((by_outlet.setdefault(outlet(i), k), k))
            links.append((by_post.setdefault((title[i].strip().lower(), texts[i][3]), k), k))
        outlet_of = dict(zip(members, components(len(members), links), strict=True))
        outlets = len(set(outlet_of.values()))
        cover = coverage(outlets, settings)
        scores = {i: score(i, cover) for i in members}
        members.sort(key=lambda i: (-scores[i], -texts[i][5], int(w.id[i])))
        mine = [i for i in members if in_scope[i]]
        if not mine:
            continue  # no story from the list's sources: not its news
        allowed = [i for i in mine if not blocked.get(i)]
        rep = allowed[0] if allowed else mine[0]
        event = _Event(members, rep, scores[rep], outlets, outlet_of=outlet_of)
        dropped = [int(w.id[i]) for i in members if picks.get(int(w.id[i])) == "drop"]
        if not allowed:
            event.reason = "blocked by " + ", ".join(repr(t) for t in blocked[rep])
        elif dropped and list_row is not None:
            also = "" if dropped[0] == int(w.id[rep]) else f" (as story {dropped[0]})"
            event.reason = f"dropped from '{list_row.name}' by the editor{also}"
        else:
            gone = [int(w.id[i]) for i in members if int(w.id[i]) in history]
            if gone:
                edition, when = history[gone[0]]
                also = "" if gone[0] == int(w.id[rep]) else f" (as story {gone[0]})"
                event.reason = f"went out in edition {edition} on {when}{also}"
        events.append(event)
    events.sort(key=lambda e: (-e.score, int(w.id[e.rep])))
    result.clusters = len(events)

    names = store.source_names()
    per_source: dict[int, int] = {}
    chosen: list[_Event] = []
    losers: list[_Event] = []
    for event in events:
        if len(chosen) >= max_n and len(losers) >= settings.runners_up:
            break
        src = int(w.source_id[event.rep])
        if event.reason is None:
            if event.score < settings.min_score:
                event.reason = f"score {event.score:.4f} is below min_score {settings.min_score}"
            elif per_source.get(src, 0) >= settings.per_source:
                event.reason = f"already {settings.per_source} stories from {names.get(src, 'no source')}"
            elif len(chosen) >= max_n:
                event.reason = f"the edition is full ({max_n} stories)"
        if event.reason is None:
            per_source[src] = per_source.get(src, 0) + 1
            chosen.append(event)
        elif len(losers) < settings.runners_up:
            losers.append(event)

    shown = [i for e in chosen + losers for i in e.members]
    details = store.rank_details(int(w.id[i]) for i in shown)

    def ranked(e: _Event) -> Ranked:
        i = e.rep
        d = details[int(w.id[i])]
        cover = coverage(e.outlets, settings)
        why: dict[str, Any] = {
            "recency": round(float(p.recency[i]), 6),
            "engagement": round(float(p.engagement[i]), 6),
            "coverage": round(cover, 6),
            "keywords": round(settings.keyword_weight * len(boosted.get(i, ())), 6),
            "pinned": round(float(p.pinned[i]), 6),
            "source_factor": round(float(p.factor[i]), 6),
            "age_hours": round(float(p.age[i]), 2),
            "outlets": e.outlets,
            "engagement_figures": {**({"comments": d.comments} if d.comments else {}), **d.engagement},
        }
        if boosted.get(i):
            why["boosted_by"] = boosted[i]
        if blocked.get(i):
            why["blocked_by"] = blocked[i]
        if w.undated[i]:
            why["undated"] = True
        also = [
            {
                "story_id": int(w.id[j]),
                "title": details[int(w.id[j])].title,
                "url": details[int(w.id[j])].url,
                "source": details[int(w.id[j])].source,
            }
            for j in _one_per_outlet(e)
        ]
        return Ranked(
            int(w.id[i]),
            d.title,
            d.url,
            d.source,
            e.score,
            why,
            also,
            picked=e.reason is None,
            reason=e.reason,
        )

    result.picked = [ranked(e) for e in chosen]
    result.runners_up = [ranked(e) for e in losers]
    return result
