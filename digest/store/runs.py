"""The ``runs`` table: one row per ``digest run``, so ``digest doctor`` can say how the last one went."""

from __future__ import annotations

from dataclasses import asdict

from digest.models import RunRecord, RunSummary
from digest.store.base import QueryBase, dumps, loads


class RunQueries(QueryBase):
    def start_run(self, started_at: str) -> int:
        """A run that has begun (no end yet: if it never gets one, the run was killed)."""
        cur = self.conn.execute("INSERT INTO runs(started_at) VALUES (?)", (started_at,))
        return int(cur.lastrowid or 0)

    def finish_run(self, run_id: int, finished_at: str, exit_code: int, summary: RunSummary) -> None:
        self.conn.execute(
            "UPDATE runs SET finished_at = ?, exit_code = ?, summary = ? WHERE id = ?",
            (finished_at, exit_code, dumps(asdict(summary)), run_id),
        )

    def last_run(self) -> RunRecord | None:
        """The latest run begun, finished or not."""
        found = self.row("SELECT id, started_at, finished_at, exit_code, summary FROM runs ORDER BY id DESC LIMIT 1")
        if found is None:
            return None
        kept = loads(found.pop("summary"), {})
        return RunRecord(**found, summary=RunSummary(**kept) if found["finished_at"] and kept else None)

    def run_starts(self, limit: int = 3) -> list[str]:
        """When the latest ``limit`` runs began, newest first (how often cron runs ``digest run``)."""
        return [r[0] for r in self.conn.execute("SELECT started_at FROM runs ORDER BY id DESC LIMIT ?", (limit,))]
