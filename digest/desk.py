"""The editor's desk: look at an edition before it goes, change it, approve it.

An edition's stories are always *its ranking plus the editor's changes*: build keeps the ranking it froze
(picks and runners-up, each with its snapshot, in ``editions.ranked``) and every change is recorded in
``edition_changes``; the stored picks are the ranking with the changes replayed in order (:func:`replay`).
So a change survives a rebuild (the new ranking gets the same changes) until :func:`reset` forgets them.

Changes are refused once the edition has started sending (it is frozen), and any change clears an approval
(what was approved is no longer what would go). The rendered email follows the stored picks and the editor's
subject and preheader: they are in the render stamp, so an edited edition renders once more, not per reader.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from typing import Any

from digest import clock
from digest.config import Config
from digest.errors import DigestError, LockedError, NotFoundError, TemplateError
from digest.models import (
    Draft,
    DraftStory,
    Edition,
    EditionChange,
    EditionStory,
    Ranked,
    iso,
)
from digest.render import MAX_STORIES, edition_context, template_texts
from digest.store import Store
from digest.store.editions import SNAPSHOT_FIELDS

RUNNERS_UP = 40  # runners-up an edition keeps for the desk (the ranking's own setting may be lower)
ACTIONS = ("drop", "swap", "move", "pin", "edit", "edit_edition", "approve")

Pick = dict[str, Any]  # story_id, score, why, also, snapshot, pinned, original (as the store keeps a frozen story)


class DeskError(DigestError):
    """A change the desk cannot make (a story not in the edition, an edition that has started sending...)."""


# -- the ranking an edition starts from ------------------------------------------------------------------------


def ranking_of(
    picked: list[Ranked], snapshots: list[dict[str, Any]], runners_up: list[tuple[Ranked, dict[str, Any]]]
) -> dict[str, Any]:
    """What build keeps of its ranking (:meth:`Store.keep_ranking`): picks and runners-up with their snapshots."""

    def entry(r: Ranked, story: dict[str, Any]) -> Pick:
        shot = {k: story.get(k) for k in SNAPSHOT_FIELDS}
        return {"story_id": r.story_id, "score": r.score, "why": r.why, "also": r.also, "snapshot": shot}

    return {
        "picks": [entry(r, s) for r, s in zip(picked, snapshots, strict=True)],
        "runners_up": [entry(r, s) | {"reason": r.reason or ""} for r, s in runners_up],
    }


def _ranking(store: Store, edition_id: int, *, keep: bool = False) -> dict[str, Any]:
    """The kept ranking; for an edition built before the desk, its stored picks (and no runners-up), which
    ``keep`` stores as its ranking before the first change (so that a reset finds them again)."""
    kept = store.ranking(edition_id)
    if kept is not None:
        return kept
    picks = [
        {k: p[k] for k in ("story_id", "score", "why", "also", "snapshot")} for p in store.edition_picks(edition_id)
    ]
    ranking = {"picks": picks, "runners_up": []}
    if keep:
        store.keep_ranking(edition_id, ranking)
    return ranking


# -- replaying the changes ------------------------------------------------------------------------------------


def replay(store: Store, edition_id: int) -> None:
    """Write the edition's picks as its ranking with every recorded change applied, in order (call in a
    transaction). A change that no longer applies after a rebuild (its story is gone) is passed over."""
    ranking = _ranking(store, edition_id)
    picks: list[Pick] = [_fresh(p) for p in ranking["picks"]]
    pool = {p["story_id"]: p for p in ranking["runners_up"] + ranking["picks"]}
    texts: dict[str, str | None] = {"subject": None, "preheader": None}
    cap = max(len(picks), 1)
    for change in store.edition_changes(edition_id):
        _apply(store, picks, pool, texts, change.action, change.args, cap)
    store.write_picks(edition_id, picks)
    store.set_edition_texts(edition_id, texts["subject"], texts["preheader"])


def _fresh(entry: Pick) -> Pick:
    out = copy.deepcopy({k: entry[k] for k in ("story_id", "score", "why", "also", "snapshot")})
    return out | {"pinned": False, "original": {}}


def _entry(store: Store, pool: dict[int, Pick], story_id: int) -> Pick:
    """A story to put in: as ranked (a runner-up, a pick), else as stored now, with no score."""
    if story_id in pool:
        return _fresh(pool[story_id])
    story = store.story(story_id).as_dict()
    return {
        "story_id": story_id,
        "score": 0.0,
        "why": {},
        "also": [],
        "snapshot": story,
        "pinned": False,
        "original": {},
    }


def _find(picks: list[Pick], story_id: int) -> int | None:
    return next((i for i, p in enumerate(picks) if p["story_id"] == story_id), None)


def _apply(
    store: Store,
    picks: list[Pick],
    pool: dict[int, Pick],
    texts: dict[str, str | None],
    action: str,
    args: dict[str, Any],
    cap: int,
) -> None:
    """One change on ``picks`` (in place); the same code applies it now and replays it after a rebuild."""
    sid = args.get("story_id")
    at = _find(picks, sid) if isinstance(sid, int) else None
    if action == "drop" and at is not None:
        del picks[at]
    elif action == "swap" and at is not None:
        other = _find(picks, args["with"])
        if other is not None:  # the runner-up made it in on its own: the editor still wants this one out
            del picks[at]
        else:
            try:
                picks[at] = _entry(store, pool, args["with"])
            except NotFoundError:  # the story was removed from the store since
                del picks[at]
    elif action == "move" and at is not None:
        moved = picks.pop(at)
        picks.insert(min(max(int(args["to"]), 1), len(picks) + 1) - 1, moved)
    elif action == "pin" and isinstance(sid, int):
        if at is None:  # pinned in: back in at its place, the last story it pushes past the edition's size out
            try:
                entry = _entry(store, pool, sid)
            except NotFoundError:
                return
            picks.insert(min(max(int(args.get("rank", len(picks) + 1)), 1), len(picks) + 1) - 1, entry)
            at = _find(picks, sid)
            while len(picks) > cap and any(not p["pinned"] and p["story_id"] != sid for p in picks):
                last = max(i for i, p in enumerate(picks) if not p["pinned"] and p["story_id"] != sid)
                del picks[last]
            at = _find(picks, sid)
        if at is not None:
            picks[at]["pinned"] = True
    elif action == "edit" and at is not None:
        shot, original = picks[at]["snapshot"], picks[at]["original"]
        for key, field in (("title", "title"), ("blurb", "summary")):
            value = args.get(key)
            if value is None:
                continue
            first = original.get(field, shot.get(field) or "")
            if value == first:
                original.pop(field, None)
            else:
                original[field] = first
            shot[field] = value
    elif action == "edit_edition":
        for key in ("subject", "preheader"):
            if key in args and args[key] is not None:
                texts[key] = args[key] or None  # "" goes back to the templates'


# -- the draft ------------------------------------------------------------------------------------------------


def parts(why: dict[str, Any]) -> dict[str, float]:
    """The score's parts under the desk's names: score = source × (recency + engagement + coverage + keywords) + pin."""
    return {
        "recency": float(why.get("recency", 0.0)),
        "engagement": float(why.get("engagement", 0.0)),
        "coverage": float(why.get("coverage", 0.0)),
        "keywords": float(why.get("keywords", 0.0)),
        "pin": float(why.get("pinned", 0.0)),
        "source": float(why.get("source_factor", 1.0)),
    }


def _also(also: Iterable[dict[str, Any]]) -> tuple[str, ...]:
    return tuple(str(a.get("source") or a.get("title") or a.get("story_id")) for a in also)


def describe(change: EditionChange) -> str:
    """A recorded change in words."""
    a = change.args
    sid = a.get("story_id")
    match change.action:
        case "drop":
            return f"dropped story {sid}"
        case "swap":
            return f"swapped story {sid} for story {a.get('with')}"
        case "move":
            return f"moved story {sid} to {a.get('to')}"
        case "pin":
            return f"pinned story {sid}"
        case "edit":
            what = " and ".join(k for k in ("title", "blurb") if a.get(k) is not None)
            return f"edited the {what} of story {sid}"
        case "edit_edition":
            what = " and ".join(k for k in ("subject", "preheader") if a.get(k) is not None)
            return f"edited the {what}"
        case "approve":
            return f"approved by {a.get('by', '')}"
    return change.action


def removed_stories(changes: list[EditionChange]) -> set[int]:
    """The stories the editor took out of the edition (dropped, swapped out, not pinned back): no variant of it
    for readers' topics holds them either."""
    return set(_removed(changes))


def _removed(changes: list[EditionChange]) -> dict[int, str]:
    """Why a story the ranking picked is no longer in (the last change that took it out)."""
    out: dict[int, str] = {}
    for c in changes:
        sid = int(c.args.get("story_id") or 0)
        if c.action == "drop":
            out[sid] = "dropped on the desk"
        elif c.action == "swap":
            out[sid] = f"swapped out for story {c.args.get('with')}"
            out.pop(int(c.args.get("with") or 0), None)
        elif c.action == "pin":
            out.pop(sid, None)
    return out


def draft(store: Store, config: Config, edition_id: int, notes: Iterable[str] = ()) -> Draft:
    """The edition as the desk shows it."""
    edition = store.edition(edition_id)
    list_row = store.list_by_id(edition.list_id)
    shown = store.edition_stories(edition_id)
    marks = {p["story_id"]: p for p in store.edition_picks(edition_id)}
    ranking = _ranking(store, edition_id)
    changes = [EditionChange(c.id, c.at, c.action, c.args, describe(c)) for c in store.edition_changes(edition_id)]
    try:
        subject, preheader = template_texts(config, edition_context(store, config, edition_id))
    except TemplateError:  # the desk still shows the edition; preview and send say what is wrong with the template
        subject, preheader = edition.subject, edition.preheader
    stories = tuple(_picked(s, marks.get(s.story_id, {})) for s in shown)
    in_edition = {s.story_id for s in shown}
    last = min((p["score"] for p in ranking["picks"]), default=0.0)
    removed = _removed(changes)
    names = {p["story_id"]: p["snapshot"].get("source") for p in ranking["picks"] + ranking["runners_up"]}
    runners: list[DraftStory] = []
    for p in ranking["picks"]:  # picks the editor took out come first: the likeliest to be wanted back
        if p["story_id"] not in in_edition:
            # not dropped or swapped out by name: a story pinned in took its place
            runners.append(_runner(p, removed.get(p["story_id"], "pushed out by a story pinned in on the desk"), names))
    for p in ranking["runners_up"]:
        if p["story_id"] not in in_edition:
            reason = p.get("reason") or ""
            if not reason or reason.startswith("the edition is full"):
                reason = f"score {p['score']:.3f} below the last pick's {last:.3f}"
            runners.append(_runner(p, reason, names))
    return Draft(
        edition=edition.id,
        list=edition.list,
        date=edition.date,
        subject=edition.subject_edit if edition.subject_edit is not None else subject,
        preheader=edition.preheader_edit if edition.preheader_edit is not None else preheader,
        original_subject=subject,
        original_preheader=preheader,
        approved=edition.approval,
        require_approval=list_row.require_approval,
        frozen=bool(store.send_counts(edition_id).total),
        stories=stories,
        runners_up=tuple(runners[:RUNNERS_UP]),
        changes=tuple(changes),
        notes=tuple(notes),
    )


def _picked(s: EditionStory, mark: Pick) -> DraftStory:
    original = mark.get("original") or {}
    return DraftStory(
        story_id=s.story_id,
        rank=s.rank,
        title=s.title,
        blurb=s.summary,
        url=s.url,
        source=s.source,
        score=s.score,
        parts=parts(s.why),
        also=_also(s.also),
        pinned=bool(mark.get("pinned")),
        original_title=original.get("title"),
        original_blurb=original.get("summary"),
    )


def _runner(p: Pick, reason: str, names: dict[int, Any]) -> DraftStory:
    shot = p["snapshot"]
    return DraftStory(
        story_id=p["story_id"],
        rank=None,
        title=shot.get("title") or "",
        blurb=shot.get("summary") or "",
        url=shot.get("url"),
        source=names.get(p["story_id"]),
        score=float(p["score"]),
        parts=parts(p["why"]),
        also=_also(p["also"]),
        why_lost=reason,
    )


# -- changing it ------------------------------------------------------------------------------------------------


def _where(edition: Edition) -> str:
    return f"--list {edition.list} --date {edition.date}"


def _check_open(store: Store, edition: Edition) -> None:
    if store.send_counts(edition.id).total:
        raise DeskError(
            f"edition {edition.id} of '{edition.list}' ({edition.date}) has started sending and can no longer"
            " change; see 'digest stats' for how the send went"
        )
    held = store.live_lock(f"send:edition:{edition.id}")
    if held is not None:
        raise LockedError(
            f"edition {edition.id} ({edition.date}) is being sent by another process (pid {held.pid} on"
            f" {held.host}); wait for the send to finish"
        )


def change(store: Store, config: Config, edition_id: int, action: str, args: dict[str, Any]) -> Draft:
    """Check, record and apply one change; the new draft. Refused (a :class:`DeskError` naming why) when the
    edition has started sending or the change makes no sense; clears an approval (the draft's notes say so)."""
    notes: list[str] = []
    with store.transaction(immediate=True):
        edition = store.edition(edition_id)
        _check_open(store, edition)
        picks = store.edition_picks(edition_id)
        _ranking(store, edition_id, keep=True)
        if action == "approve" and edition.approved_at:
            notes.append(f"already approved at {edition.approved_at} by {edition.approved_by}: nothing changed")
            return draft(store, config, edition_id, notes)
        # approve what the editor saw, or nothing: a run may have ranked again, another editor changed it
        seen = args.get("seen") if action == "approve" else None
        if seen is not None and seen != draft(store, config, edition_id).fingerprint:
            raise DeskError(
                f"edition {edition_id} changed since you looked at it (a new ranking or another change):"
                f" look again ('digest edition show {_where(edition)}' or the desk) and approve what you see"
            )
        args = {k: v for k, v in args.items() if k != "seen"}
        _validate(store, edition, picks, action, args)
        if action == "approve":
            at = iso(clock.now())
            store.set_approval(edition_id, at, args["by"])
        elif edition.approved_at:
            store.set_approval(edition_id, None, None)
            notes.append(
                f"the approval of {edition.approved_at} by {edition.approved_by} is cleared by this change: approve"
                f" it again with 'digest edition approve {_where(edition)}'"
            )
        store.record_change(edition_id, iso(clock.now()), action, args)
        if action != "approve":
            replay(store, edition_id)
    return draft(store, config, edition_id, notes)


def _ids(picks: list[Pick]) -> str:
    return ", ".join(str(p["story_id"]) for p in picks) or "none"


def _validate(store: Store, edition: Edition, picks: list[Pick], action: str, args: dict[str, Any]) -> None:
    """Refuse a change that does not apply, in one line that says what would."""
    if action not in ACTIONS:
        raise DeskError(f"unknown desk action {action!r}; use one of {', '.join(ACTIONS)}")
    sid = args.get("story_id")
    ids = {p["story_id"] for p in picks}
    show = f"'digest edition show {_where(edition)}'"
    if action in ("drop", "swap", "move", "edit") and sid not in ids:
        raise DeskError(f"story {sid} is not in edition {edition.id} (its stories: {_ids(picks)}); see {show}")
    if action == "drop" and len(picks) == 1:
        raise DeskError(f"story {sid} is the edition's only story; swap it for a runner-up instead (see {show})")
    if action == "swap":
        other = args["with"]
        if other in ids:
            raise DeskError(f"story {other} is already in edition {edition.id}; pick a runner-up (see {show})")
        ranking = _ranking(store, edition.id)
        known = {p["story_id"] for p in ranking["runners_up"] + ranking["picks"]}
        if other not in known:
            store.story(other)  # NotFoundError for an unknown id; any stored story may come in
    if action == "move":
        to = args["to"]
        if not 1 <= to <= len(picks):
            raise DeskError(f"position {to} is outside the edition (1 to {len(picks)}); pass --to 1..{len(picks)}")
    if action == "pin" and sid not in ids:
        store.story(int(sid or 0))  # NotFoundError for an unknown id
        if len(picks) >= MAX_STORIES:
            raise DeskError(
                f"edition {edition.id} already holds {MAX_STORIES} stories, the most an email takes; drop one first"
            )
    if action == "edit":
        if args.get("title") is None and args.get("blurb") is None:
            raise DeskError("nothing to edit; give a new title or blurb (--title, --blurb)")
        if args.get("title") is not None and not str(args["title"]).strip():
            raise DeskError("a story's title cannot be empty; give a title with words in it")
    if action == "edit_edition" and args.get("subject") is None and args.get("preheader") is None:
        raise DeskError("nothing to edit; give a new subject or preheader (--subject, --preheader)")
    if action == "edit_edition" and args.get("subject") is not None and "\n" in str(args["subject"]):
        raise DeskError("a subject is one line; remove its line breaks")


def reset(store: Store, config: Config, edition_id: int) -> Draft:
    """Forget every change (and the approval): the edition goes back to its ranking."""
    notes: list[str] = []
    with store.transaction(immediate=True):
        edition = store.edition(edition_id)
        _check_open(store, edition)
        count = store.clear_changes(edition_id)
        if edition.approved_at:
            store.set_approval(edition_id, None, None)
            notes.append(f"the approval of {edition.approved_at} by {edition.approved_by} is cleared")
        replay(store, edition_id)
        notes.insert(0, f"{count} change(s) forgotten: the edition is as ranked")
    return draft(store, config, edition_id, notes)


def check_approved(store: Store, edition_id: int) -> None:
    """Refuse to send an edition its list wants approved first (one that started sending goes on)."""
    if awaiting(store, edition_id) and not store.send_counts(edition_id).total:
        edition = store.edition(edition_id)
        raise DeskError(
            f"edition {edition_id} of '{edition.list}' ({edition.date}) is waiting for approval (the list requires"
            f" it); approve it with 'digest edition approve {_where(edition)}', or send yourself a test copy with --to"
        )


def awaiting(store: Store, edition_id: int) -> bool:
    """The edition's list wants approval and it has none yet (``digest run`` holds it)."""
    edition = store.edition(edition_id)
    return store.list_by_id(edition.list_id).require_approval and not edition.approved_at
