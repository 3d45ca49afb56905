"""Commands that choose the stories: rank, build."""

from __future__ import annotations

import typer

from digest import pipeline
from digest.cli.common import JSON_HELP, out_json, parse_now, say, state
from digest.models import utcnow
from digest.rank import rank as rank_stories


def register(app: typer.Typer) -> None:
    app.command()(rank)
    app.command()(build)


def rank(
    ctx: typer.Context,
    now: str = typer.Option(None, "--now", help="Rank as of this ISO time (default: now)."),
    limit: int = typer.Option(None, "--limit", min=1, help="Pick at most this many (default: [rank] max_stories)."),
    list_name: str = typer.Option(None, "--list", help="Leave out what this list was already sent."),
    explain: bool = typer.Option(False, "--explain", help="Show each score's parts and why runners-up lost."),
    json_out: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """Show what would be picked now, with each score's parts. Writes nothing."""
    st = state(ctx)
    list_row = st.store.list_(list_name) if list_name else None
    result = rank_stories(st.store, st.config.settings.rank, parse_now(now) or utcnow(), list_row, limit)
    if json_out:
        out_json(result.as_dict())
        return
    for i, r in enumerate(result.picked, 1):
        typer.echo(f"{i:>2}. {r.score:8.4f}  {r.title}  [{r.source or '-'}]")
        if explain:
            typer.echo("      " + ", ".join(f"{k}={v}" for k, v in r.why.items()))
    if explain and result.runners_up:
        typer.echo("\nRunners-up:")
        for r in result.runners_up[:20]:
            typer.echo(f"    {r.score:8.4f}  {r.title}  [{r.source or '-'}]: {r.reason}")


def build(
    ctx: typer.Context,
    list_name: str = typer.Option(None, "--list", help="The list (default: [default_list] in digest.toml)."),
    date: str = typer.Option(None, "--date", help="The edition's date, YYYY-MM-DD (default: today)."),
    now: str = typer.Option(None, "--now", help="Rank as of this ISO time (default: now)."),
    json_out: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """Freeze the edition for a list and date, so preview, render and send use exactly it."""
    st = state(ctx)
    report = pipeline.build_edition(st.store, st.config, list_name or st.config.settings.default_list,
                                    date=date, now=parse_now(now))
    if json_out:
        out_json(report.as_dict())
        return
    note = " (already sending: kept as it was)" if report.frozen else ""
    say(f"Edition {report.edition} for '{report.list}' on {report.date}{note}: {report.subject}")
    for s in report.stories:
        typer.echo(f"{s['rank']:>2}. {s['title']}")
