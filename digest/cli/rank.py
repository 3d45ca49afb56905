"""The rank command: what would be picked now, and why."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from digest.cli.common import JSON_HELP, bar, echo, out_json, parse_now, say, state

if TYPE_CHECKING:
    from digest.models import Ranked


def rank(
    ctx: typer.Context,
    now: str = typer.Option(None, "--now", help="Rank as of this ISO time (default: now)."),
    limit: int = typer.Option(None, "--limit", min=1, help="Pick at most this many (default: rank.max_stories)."),
    list_name: str = typer.Option(
        None,
        "--list",
        help="Rank for this list: only stories from its sources and tags, its boost/block words, its pins and"
        " drops ('digest stories pin/drop'), and leave out what it was already sent"
        " (default: the default_list of digest.toml, when that list exists).",
    ),
    date: str = typer.Option(None, "--date", help="The edition's date, YYYY-MM-DD (default: --now's date)."),
    explain: bool = typer.Option(False, "--explain", help="Show each score's parts and why each runner-up lost."),
    json_out: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """Show what would be picked now, with each score's parts. Writes nothing.

    score = source factor x (recency + engagement + coverage + keywords) + pinned, each part weighted in the rank section of digest.toml.

    Stories about one event (several outlets, or one site's RSS, Atom and JSON feeds) are one entry, "also covered by" the others. --json always carries the parts ("why") and the runners-up with the reason each lost.

    Examples:

        digest rank --explain
        digest rank --list weekly --now 2026-11-24T07:00 --json
    """  # noqa: E501
    st = state(ctx)
    result = st.news.rank(list_name, now=parse_now(now), limit=limit, date=date)
    if json_out:
        out_json(result.as_dict())
        return
    scope = f" for '{result.list}'" if result.list else ""
    if result.in_scope is not None:
        scope += f" ({result.in_scope} from its sources)"
    say(
        f"{result.considered} stories in the window{scope}, {result.clusters} events among the {result.pool}"
        f" compared; {len(result.picked)} picked"
    )
    if result.advice:
        typer.echo(f"(nothing in the window: {result.advice})")
    elif not result.picked:
        typer.echo("(nothing new clears the bar)")
    top = max((r.why[p] for r in [*result.picked, *result.runners_up] for p in PARTS), default=0.0)
    for i, r in enumerate(result.picked, 1):
        typer.echo(
            f"{i:>2}. {r.score:8.4f}  {r.title}  [{r.source or '-'}]" + (f"  story {r.story_id}" if explain else "")
        )
        if explain:
            _explain(r, top)
    if explain and result.runners_up:
        typer.echo("\nRunners-up:")
        for r in result.runners_up:
            typer.echo(f"    {r.score:8.4f}  {r.title}  [{r.source or '-'}]  story {r.story_id}")
            echo(f"              lost: {r.reason}", "yellow")
            _explain(r, top)


PARTS = ("recency", "engagement", "coverage", "keywords")


def _explain(r: Ranked, top: float) -> None:
    why = dict(r.why)
    for k in PARTS:  # one scale for every story shown, so bars compare across stories
        typer.echo(f"              {k:<11}{bar(why[k], top)} {why[k]:.4f}")
    line = " + ".join(f"{k} {why.pop(k)}" for k in PARTS)
    typer.echo(f"              = {why.pop('source_factor')} x ({line}) + pinned {why.pop('pinned')}")
    figures = why.pop("engagement_figures", {})
    extra = ", ".join(f"{k}={v}" for k, v in why.items())
    if figures:
        extra += ", figures=" + ", ".join(f"{k}:{v}" for k, v in figures.items())
    typer.echo(f"              {extra}")
    if r.also:
        also = (f"{a['source'] or a['title']} (story {a['story_id']})" for a in r.also)
        typer.echo("              also covered by: " + ", ".join(also))


def register(app: typer.Typer) -> None:
    app.command()(rank)
