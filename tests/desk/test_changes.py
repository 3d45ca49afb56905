"""Each change on the desk is recorded, survives a rebuild of the edition, and is forgotten only by a reset."""

from __future__ import annotations

import pytest

from digest import Newsletter
from digest.desk import DeskError
from digest.errors import NotFoundError
from digest.models import Draft
from tests.support.rank import source, story


def ids(draft: Draft) -> list[int]:
    return [s.story_id for s in draft.stories]


def test_a_fresh_draft_shows_picks_with_their_parts_and_runners_up_with_why_they_lost(
    news: Newsletter, eid: int
) -> None:
    d = news.draft(eid)
    assert d.edition == eid and d.list == "main" and not d.changes and d.approved is None and not d.frozen
    assert [s.rank for s in d.stories] == list(range(1, len(d.stories) + 1))
    lead = d.stories[0]
    assert set(lead.parts) == {"recency", "engagement", "coverage", "keywords", "pin", "source"}
    p = lead.parts
    assert lead.score == pytest.approx(
        p["source"] * (p["recency"] + p["engagement"] + p["coverage"] + p["keywords"]) + p["pin"], abs=1e-4
    )
    assert d.subject == d.original_subject and lead.title in d.subject
    assert d.runners_up and all(r.why_lost and r.rank is None for r in d.runners_up)
    assert not set(ids(d)) & {r.story_id for r in d.runners_up}


def test_every_action_is_recorded_and_survives_a_rebuild(news: Newsletter, eid: int) -> None:
    start = news.draft(eid)
    a, b, c, d_, *_ = ids(start)
    runner = start.runners_up[0].story_id
    news.drop_story(eid, a)
    news.swap_story(eid, b, runner)
    news.move_story(eid, d_, to=1)
    news.move_story(eid, c, up=True)
    news.edit_story(eid, c, title="An editor's headline", blurb="An editor's blurb.")
    news.edit_edition(eid, subject="Hand-written subject", preheader="Hand-written preheader")
    edited = news.pin_story(eid, start.runners_up[1].story_id)
    assert a not in ids(edited) and b not in ids(edited) and runner in ids(edited)
    assert ids(edited)[0] == d_ and ids(edited)[1] == c
    story = edited.story(c)
    assert story is not None and story.title == "An editor's headline" and story.blurb == "An editor's blurb."
    assert story.original_title == start.stories[2].title and story.original_blurb == start.stories[2].blurb
    assert edited.subject == "Hand-written subject" and edited.original_subject != edited.subject
    assert edited.preheader == "Hand-written preheader"
    pinned = edited.story(start.runners_up[1].story_id)
    assert pinned is not None and pinned.pinned
    assert [ch.action for ch in edited.changes] == ["drop", "swap", "move", "move", "edit", "edit_edition", "pin"]
    assert all(ch.what and ch.at for ch in edited.changes)
    dropped = {r.story_id: r.why_lost for r in edited.runners_up}
    assert dropped[a] == "dropped on the desk" and dropped[b] == f"swapped out for story {runner}"

    news.build()  # ranked again: the same changes on the new ranking
    rebuilt = news.draft(eid)
    assert rebuilt.stories == edited.stories
    assert (rebuilt.subject, rebuilt.preheader) == (edited.subject, edited.preheader)
    assert rebuilt.changes == edited.changes


def test_a_pinned_story_stays_in_when_a_rebuild_would_leave_it_out(news: Newsletter, eid: int) -> None:
    start = news.draft(eid)
    lead = start.stories[0].story_id
    news.pin_story(eid, lead)
    news.store.conn.execute("UPDATE stories SET published_at = '2020-01-01T00:00:00+00:00' WHERE id = ?", (lead,))
    assert lead not in [r.story_id for r in news.rank().picked]  # out of the window now
    news.build()
    again = news.draft(eid)
    assert ids(again)[0] == lead and again.stories[0].pinned
    assert len(again.stories) == len(start.stories)


def test_reset_forgets_every_change_and_the_approval(news: Newsletter, eid: int) -> None:
    start = news.draft(eid)
    news.drop_story(eid, ids(start)[0])
    news.edit_edition(eid, subject="Mine")
    news.approve_edition(eid)
    back = news.reset_edition(eid)
    assert back.stories == start.stories and back.subject == start.subject and back.approved is None
    assert not back.changes and back.notes[0].startswith("3 change(s) forgotten")
    news.build()
    assert news.draft(eid).stories == start.stories


def test_a_change_after_approval_clears_it_and_says_so(news: Newsletter, eid: int) -> None:
    approved = news.approve_edition(eid, by="ada")
    assert approved.approved is not None and approved.approved.by == "ada"
    assert news.approve_edition(eid).notes[0].startswith("already approved")  # twice: nothing changes
    changed = news.move_story(eid, ids(approved)[1], up=True)
    assert changed.approved is None
    assert "approval" in changed.notes[0] and "digest edition approve --list main" in changed.notes[0]


def test_an_approved_edition_is_kept_as_approved_by_a_rebuild(news: Newsletter, eid: int) -> None:
    approved = news.approve_edition(eid)
    news.store.conn.execute(
        "UPDATE stories SET published_at = '2020-01-01T00:00:00+00:00' WHERE id = ?", (ids(approved)[0],)
    )
    report = news.build()
    assert report.frozen and report.approved
    assert news.draft(eid).stories == approved.stories


def test_changes_are_refused_once_sending_started(news: Newsletter, eid: int) -> None:
    news.send(eid, provider="outbox")
    d = news.draft(eid)
    assert d.frozen
    for attempt in (
        lambda: news.drop_story(eid, ids(d)[0]),
        lambda: news.edit_edition(eid, subject="Too late"),
        lambda: news.approve_edition(eid),
        lambda: news.reset_edition(eid),
    ):
        with pytest.raises(DeskError, match="has started sending and can no longer change"):
            attempt()
    assert not news.draft(eid).changes


def test_a_change_that_does_not_apply_names_the_fix(news: Newsletter, eid: int) -> None:
    d = news.draft(eid)
    with pytest.raises(DeskError, match=r"story 999999 is not in edition .*its stories: .*digest edition show"):
        news.drop_story(eid, 999999)
    with pytest.raises(DeskError, match="already in edition"):
        news.swap_story(eid, ids(d)[0], ids(d)[1])
    with pytest.raises(NotFoundError):
        news.swap_story(eid, ids(d)[0], 999999)
    with pytest.raises(DeskError, match="outside the edition"):
        news.move_story(eid, ids(d)[0], up=True)
    with pytest.raises(DeskError, match="title cannot be empty"):
        news.edit_story(eid, ids(d)[0], title="  ")
    assert not news.draft(eid).changes


def test_changes_apply_to_a_new_ranking_when_new_stories_come_in(news: Newsletter, eid: int) -> None:
    start = news.draft(eid)
    a, b, c = ids(start)[:3]
    runner = start.runners_up[0].story_id
    news.drop_story(eid, a)
    news.swap_story(eid, b, runner)
    news.edit_story(eid, c, title="Kept headline")
    fresh = source(news.store, "wire", weight=5.0)
    new = story(news.store, fresh, "Harbour bridge reopens after a year of repairs", hours_ago=0.5, comments=500)
    news.build()
    rebuilt = news.draft(eid)
    assert new in ids(rebuilt)  # ranked again: the news is in
    assert a not in ids(rebuilt) and b not in ids(rebuilt) and runner in ids(rebuilt)  # and the desk's changes hold
    kept = rebuilt.story(c)
    assert kept is not None and kept.title == "Kept headline"
    assert len(rebuilt.changes) == 3


def test_an_edition_built_before_the_desk_can_be_changed(news: Newsletter, eid: int) -> None:
    start = news.draft(eid)
    news.store.conn.execute("UPDATE editions SET ranked = '' WHERE id = ?", (eid,))  # as migration 012 leaves it
    changed = news.drop_story(eid, ids(start)[0])
    assert ids(changed) == ids(start)[1:]
    assert news.reset_edition(eid).stories == start.stories
