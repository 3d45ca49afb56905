"""Queries on editions: a digest frozen for one list and date, with its ranked stories."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import fields
from typing import Any

from digest import clock
from digest.errors import LockedError, NotFoundError
from digest.models import Edition, EditionChange, EditionStory, LockHolder, PublishedEdition, Ranked, StoryClicks, iso
from digest.store.base import QueryBase, dumps, loads
from digest.store.sources import READER_NAME

# What an edition keeps of each story as it was when built (the rest is read live).
SNAPSHOT_FIELDS = ("title", "url", "summary", "image_url", "author", "published_at", "language", "source")


class EditionQueries(QueryBase):
    live_lock: Callable[[str], LockHolder | None]  # from SendQueries, which Store mixes in

    def freeze_edition(
        self,
        list_id: int,
        date: str,
        subject: str,
        preheader: str,
        now: str,
        picked: list[Ranked],
        snapshots: list[dict[str, Any]] | None = None,
    ) -> int:
        """Create (or, if nothing was sent from it yet, rebuild in place) the edition for a list and date.

        ``snapshots`` (one story dict per picked story) keep the fields of :data:`SNAPSHOT_FIELDS` as
        they were, so that a story updated by a later collection renders as it was previewed. An edition
        that a send holds the lock of is never rebuilt (:class:`LockedError`), nor one the editor approved.
        A rebuilt edition keeps its id, and a new one never gets an id used before (the ``edition_id_high``
        mark in ``meta``), so an edition id always names the same list and date.
        """
        shots = [dumps({k: s.get(k) for k in SNAPSHOT_FIELDS}) for s in snapshots] if snapshots else None
        with self.transaction(immediate=True):
            old = self.scalar("SELECT id FROM editions WHERE list_id = ? AND date = ?", (list_id, date))
            if old is not None:
                if self.scalar("SELECT 1 FROM sends WHERE edition_id = ? LIMIT 1", (old,)):
                    return int(old)
                if self.scalar("SELECT 1 FROM editions WHERE id = ? AND approved_at IS NOT NULL", (old,)):
                    return int(old)  # approved (perhaps while this ranking ran): what the editor approved goes
                held = self.live_lock(f"send:edition:{old}")
                if held is not None:
                    raise LockedError(
                        f"edition {old} ({date}) is being sent by another process (pid {held.pid} on"
                        f" {held.host}, since {held.acquired_at}); let the send finish instead of rebuilding"
                    )
                edition_id = int(old)
                self.conn.execute("DELETE FROM edition_stories WHERE edition_id = ?", (edition_id,))
                self.conn.execute(
                    "UPDATE editions SET subject = ?, preheader = ?, now = ?, built_at = ? WHERE id = ?",
                    (subject, preheader, now, iso(clock.now()), edition_id),
                )
            else:
                edition_id = int(
                    self.scalar(
                        "SELECT max(coalesce((SELECT max(id) FROM editions), 0),"
                        " coalesce((SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'edition_id_high'), 0)) + 1"
                    )
                )
                self.conn.execute(
                    "INSERT INTO editions(id, list_id, date, subject, preheader, now, built_at)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (edition_id, list_id, date, subject, preheader, now, iso(clock.now())),
                )
                self.conn.execute(
                    "INSERT INTO meta(key, value) VALUES ('edition_id_high', ?) ON CONFLICT(key) DO UPDATE"
                    " SET value = max(CAST(value AS INTEGER), CAST(excluded.value AS INTEGER))",
                    (str(edition_id),),
                )
            self.conn.executemany(
                "INSERT INTO edition_stories(edition_id, rank, story_id, score, why, also, snapshot)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                [
                    (edition_id, i, r.story_id, r.score, dumps(r.why), dumps(r.also), shots[i - 1] if shots else "{}")
                    for i, r in enumerate(picked, 1)
                ],
            )
        return edition_id

    def edition(self, edition_id: int) -> Edition:
        found = self.row(_EDITION + " WHERE editions.id = ?", (edition_id,))
        if found is None:
            raise NotFoundError(f"no edition {edition_id}: build one with 'digest build'")
        return Edition(**found)

    def find_edition(self, list_id: int, date: str | None = None) -> Edition | None:
        """The list's edition for ``date``, or its latest one when ``date`` is None."""
        sql = _EDITION + " WHERE editions.list_id = ?"
        params: list[Any] = [list_id]
        if date is not None:
            sql += " AND editions.date = ?"
            params.append(date)
        found = self.row(sql + " ORDER BY editions.date DESC, editions.id DESC LIMIT 1", params)
        return Edition(**found) if found else None

    def latest_sent_date(self, list_id: int) -> str | None:
        """The date of the list's latest edition that went (or may have gone) to anyone."""
        return self.scalar(
            "SELECT max(e.date) FROM editions e WHERE e.list_id = ?"
            " AND EXISTS (SELECT 1 FROM sends WHERE sends.edition_id = e.id AND sends.status != 'failed')",
            (list_id,),
        )

    def published_editions(self, until: str, list_id: int | None = None) -> list[PublishedEdition]:
        """Editions that went to at least one reader, dated ``until`` or earlier, newest first.

        ``sent_at`` is when the first copy went. A draft (built, never sent) is not here, and neither is
        a test copy (those are not in the ledger).
        """
        sql = (
            "SELECT editions.id, editions.list_id, lists.name AS list, editions.date, editions.subject,"
            " coalesce(nullif(lists.title, ''), lists.name) AS list_title,"
            " editions.built_at, (SELECT count(*) FROM edition_stories es WHERE es.edition_id = editions.id)"
            " AS stories, (SELECT min(s.updated_at) FROM sends s"
            " WHERE s.edition_id = editions.id AND s.status = 'sent') AS sent_at"
            " FROM editions JOIN lists ON lists.id = editions.list_id WHERE editions.date <= ?"
        )
        params: list[Any] = [until]
        if list_id is not None:
            sql += " AND editions.list_id = ?"
            params.append(list_id)
        sql = f"SELECT * FROM ({sql}) WHERE sent_at IS NOT NULL"
        return [PublishedEdition(**r) for r in self.rows(sql + " ORDER BY date DESC, list, id DESC", params)]

    def is_published(self, edition_id: int, until: str) -> bool:
        return bool(
            self.scalar(
                "SELECT 1 FROM editions WHERE id = ? AND date <= ? AND EXISTS"
                " (SELECT 1 FROM sends WHERE edition_id = editions.id AND status = 'sent')",
                (edition_id, until),
            )
        )

    def story_in_edition(self, story_id: int, until: str, *, sent: bool = True) -> bool:
        """Whether the story is in an edition dated ``until`` or earlier (that went to a reader, if ``sent``)."""
        went_out = " AND EXISTS (SELECT 1 FROM sends WHERE edition_id = editions.id AND status = 'sent')"
        went_out = went_out if sent else ""
        return bool(
            self.scalar(
                "SELECT 1 FROM edition_stories es JOIN editions ON editions.id = es.edition_id"
                f" WHERE es.story_id = ? AND editions.date <= ?{went_out} LIMIT 1",
                (story_id, until),
            )
        )

    def edition_stories(self, edition_id: int) -> list[EditionStory]:
        """The frozen stories of an edition, in rank order, as they were when it was built."""
        rows = self.rows(
            "SELECT es.rank, es.score, es.why, es.also, es.snapshot, stories.id AS story_id, stories.title,"
            " stories.url, stories.summary, stories.body_text, stories.image_url, stories.author, stories.published_at,"
            f" stories.language, {READER_NAME} AS source FROM edition_stories es"
            " JOIN stories ON stories.id = es.story_id LEFT JOIN sources ON sources.id = stories.source_id"
            " WHERE es.edition_id = ? ORDER BY es.rank",
            (edition_id,),
        )
        out = []
        for r in rows:
            snapshot = loads(r.pop("snapshot"), {})
            # the text is frozen as built; the source's name is read now, as readers are to see it (READER_NAME)
            r.update({k: v for k, v in snapshot.items() if k in _STORY_FIELDS and k != "source"})
            out.append(EditionStory(**r | {"why": loads(r["why"], {}), "also": loads(r["also"], [])}))
        return out

    # -- the editor's desk ------------------------------------------------------------------------------------
    def keep_ranking(self, edition_id: int, ranking: dict[str, Any]) -> None:
        """The ranking the edition was (re)built from: its picks and runners-up, each with its snapshot."""
        self.conn.execute("UPDATE editions SET ranked = ? WHERE id = ?", (dumps(ranking), edition_id))

    def ranking(self, edition_id: int) -> dict[str, Any] | None:
        """What :meth:`keep_ranking` kept (None for an edition built before the desk existed)."""
        kept = self.scalar("SELECT ranked FROM editions WHERE id = ?", (edition_id,))
        return loads(kept, None) if kept else None

    def edition_picks(self, edition_id: int) -> list[dict[str, Any]]:
        """The edition's stories as stored, for the desk: story_id, score, why, also, snapshot, pinned, original."""
        rows = self.rows(
            "SELECT story_id, score, why, also, snapshot, pinned, original FROM edition_stories"
            " WHERE edition_id = ? ORDER BY rank",
            (edition_id,),
        )
        return [
            r
            | {
                "why": loads(r["why"], {}),
                "also": loads(r["also"], []),
                "snapshot": loads(r["snapshot"], {}),
                "pinned": bool(r["pinned"]),
                "original": loads(r["original"], {}),
            }
            for r in rows
        ]

    def write_picks(self, edition_id: int, picks: list[dict[str, Any]]) -> None:
        """Replace the edition's stories with ``picks`` (in rank order, as :meth:`edition_picks` returns them)."""
        self.conn.execute("DELETE FROM edition_stories WHERE edition_id = ?", (edition_id,))
        self.conn.executemany(
            "INSERT INTO edition_stories(edition_id, rank, story_id, score, why, also, snapshot, pinned, original)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    edition_id,
                    i,
                    p["story_id"],
                    p["score"],
                    dumps(p["why"]),
                    dumps(p["also"]),
                    dumps({k: p["snapshot"].get(k) for k in SNAPSHOT_FIELDS}),
                    int(bool(p.get("pinned"))),
                    dumps(p.get("original") or {}),
                )
                for i, p in enumerate(picks, 1)
            ],
        )

    def set_edition_texts(self, edition_id: int, subject: str | None, preheader: str | None) -> None:
        """The editor's subject and preheader (None: the templates')."""
        self.conn.execute(
            "UPDATE editions SET subject_edit = ?, preheader_edit = ? WHERE id = ?", (subject, preheader, edition_id)
        )

    def set_approval(self, edition_id: int, at: str | None, by: str | None) -> None:
        self.conn.execute("UPDATE editions SET approved_at = ?, approved_by = ? WHERE id = ?", (at, by, edition_id))

    def record_change(self, edition_id: int, at: str, action: str, args: dict[str, Any]) -> None:
        self.conn.execute(
            "INSERT INTO edition_changes(edition_id, at, action, args) VALUES (?, ?, ?, ?)",
            (edition_id, at, action, dumps(args)),
        )

    def edition_changes(self, edition_id: int) -> list[EditionChange]:
        """The editor's changes to the edition, oldest first."""
        rows = self.rows(
            "SELECT id, at, action, args FROM edition_changes WHERE edition_id = ? ORDER BY id", (edition_id,)
        )
        return [EditionChange(**r | {"args": loads(r["args"], {})}) for r in rows]

    def clear_changes(self, edition_id: int) -> int:
        """Forget the editor's changes (reset); how many there were."""
        return self.conn.execute("DELETE FROM edition_changes WHERE edition_id = ?", (edition_id,)).rowcount

    def story_clicks(self, edition_id: int) -> list[StoryClicks]:
        """Each story of the edition in rank order with its tracked clicks and clicks per message sent."""
        sent = self.scalar("SELECT count(*) FROM sends WHERE edition_id = ? AND status = 'sent'", (edition_id,))
        counts = dict(
            self.conn.execute("SELECT story_id, clicks FROM story_clicks WHERE edition_id = ?", (edition_id,))
        )
        out = []
        for s in self.edition_stories(edition_id):
            clicks = int(counts.get(s.story_id, 0))
            rate = round(clicks / sent, 4) if sent else 0.0
            out.append(StoryClicks(edition_id, s.rank, s.story_id, s.title, s.url, clicks, rate))
        return out


_EDITION = (
    "SELECT editions.id, editions.list_id, lists.name AS list, editions.date, editions.subject, editions.preheader,"
    " editions.now, editions.built_at, editions.subject_edit, editions.preheader_edit, editions.approved_at,"
    " editions.approved_by FROM editions JOIN lists ON lists.id = editions.list_id"
)
_STORY_FIELDS = frozenset(f.name for f in fields(EditionStory))
