"""Queries on renditions: each edition's rendered artefact, kept so that it is compiled once."""

from __future__ import annotations

from digest import clock
from digest.models import Rendered, iso
from digest.store.base import QueryBase


class RenditionQueries(QueryBase):
    def rendition(self, edition_id: int, stamp: str) -> Rendered | None:
        """The edition's kept artefact if it was rendered from what ``stamp`` names, else None."""
        row = self.conn.execute(
            "SELECT subject, preheader, html, text, mjml FROM renditions WHERE edition_id = ? AND stamp = ?",
            (edition_id, stamp),
        ).fetchone()
        if row is None:
            return None
        subject, preheader, html, text, mjml = row
        return Rendered(subject=subject, preheader=preheader, html=html, text=text, mjml=mjml, stamp=stamp)

    def keep_rendition(self, edition_id: int, rendered: Rendered) -> None:
        """Keep ``rendered`` as the edition's artefact (replacing an older stamp's).

        The edition row's subject and preheader are written from it in the same transaction: the
        rendition is their one source, the row a copy for listings (archive, ``digest stats``).
        """
        with self.transaction(immediate=True):
            self.conn.execute(
                "INSERT INTO renditions(edition_id, stamp, subject, preheader, html, text, mjml, rendered_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(edition_id) DO UPDATE SET stamp = excluded.stamp,"
                " subject = excluded.subject, preheader = excluded.preheader, html = excluded.html,"
                " text = excluded.text, mjml = excluded.mjml, rendered_at = excluded.rendered_at",
                (
                    edition_id,
                    rendered.stamp,
                    rendered.subject,
                    rendered.preheader,
                    rendered.html,
                    rendered.text,
                    rendered.mjml,
                    iso(clock.now()),
                ),
            )
            self.conn.execute(
                "UPDATE editions SET subject = ?, preheader = ? WHERE id = ?",
                (rendered.subject, rendered.preheader, edition_id),
            )
