"""The stats command: per-edition sending and delivery figures."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from digest.cli.common import JSON_HELP, bar, out_json, say, state, table
from digest.errors import NotFoundError

if TYPE_CHECKING:
    pass


def stats(
    ctx: typer.Context,
    edition: int = typer.Option(None, "--edition", help="One edition's id (default: every edition)."),
    chart: Path = typer.Option(
        None, "--chart", help="Also draw the figures of each edition into this picture: a .png or .svg file."
    ),
    json_out: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """Per edition: sent, failed, unknown (the ledger) and people delivered, bounced, opened, clicked, unsubscribed.

    Delivery figures come from SendGrid's Event Webhook, received by 'digest serve' at /webhooks/sendgrid.
    ``link_clicks`` counts clicks on the stories' own tracked links ([track] clicks = true), and --edition
    shows them per story with their rate (clicks per message sent).

    Examples:

        digest stats
        digest stats --edition 3 --json
        digest stats --chart stats.png
    """
    st = state(ctx)
    rows = [asdict(r) for r in st.news.edition_stats(edition)]
    if edition is not None and not rows:
        raise NotFoundError(f"no edition with id {edition}: see 'digest stats' for the editions")
    per_story = [asdict(c) for c in st.news.story_clicks(edition)] if edition is not None else []
    if edition is not None:
        rows[0]["stories"] = per_story
    if chart is not None:
        from digest.charts import stats_chart

        say(f"Wrote the chart to {stats_chart(rows, chart, title=st.config.settings.name)}")
    if json_out:
        out_json(rows)
        return
    table(
        rows,
        [
            "edition",
            "list",
            "date",
            "sent",
            "failed",
            "unknown",
            "delivered",
            "bounced",
            "opened",
            "clicked",
            "unsubscribed",
            "complained",
            "link_clicks",
        ],
    )
    if per_story:
        typer.echo("")
        table(per_story, ["rank", "story_id", "title", "clicks", "rate"])
        if not st.config.settings.track.clicks and not any(c["clicks"] for c in per_story):
            say("Clicks per story are counted with [track] clicks = true in digest.toml (links via digest serve)")
    _draw(rows)


def _draw(rows: list[dict[str, Any]]) -> None:
    """A small chart of the latest editions: how many were sent, opened and clicked, on one scale."""
    shown = rows[-8:]
    top = max((r["sent"] for r in shown), default=0)
    if not top:
        return
    typer.echo("")
    for r in shown:
        typer.echo(f"#{r['edition']} {r['list']} {r['date']}")
        for name in ("sent", "opened", "clicked"):
            typer.echo(f"  {name:<8}{bar(r[name], top, 30)} {r[name]}")


def register(app: typer.Typer) -> None:
    app.command()(stats)
