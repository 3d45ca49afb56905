"""The stories group: what is in the store."""

from __future__ import annotations

from dataclasses import asdict
from typing import TYPE_CHECKING

import typer

from digest.cli.common import JSON_HELP, out_json, parse_now, say, state, table
from digest.cli.shapes import with_aliases

if TYPE_CHECKING:
    pass


stories_app = typer.Typer(help="What is in the store.", no_args_is_help=True)


@stories_app.command("list")
def stories_list(
    ctx: typer.Context,
    since: str = typer.Option(None, "--since", help="Only stories published since this date or ISO time."),
    limit: int = typer.Option(50, "--limit", min=1, help="At most this many."),
    json_out: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """List stories, newest first."""
    stories = state(ctx).store.stories(parse_now(since, "--since"), limit)
    rows = [with_aliases(asdict(s), story_id="id") for s in stories]
    if json_out:
        out_json(rows)
        return
    table(rows, ["id", "published_at", "source", "title"])


@stories_app.command("show")
def stories_show(
    ctx: typer.Context,
    story_id: int = typer.Argument(..., help="The story's id."),
    json_out: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """Show one story."""
    row = with_aliases(state(ctx).store.story(story_id).as_dict(), story_id="id")
    if json_out:
        out_json(row)
        return
    for key in ("id", "title", "url", "source", "author", "published_at", "collected_at", "summary"):
        typer.echo(f"{key}: {row.get(key) or ''}")
    typer.echo("")
    typer.echo("body:")
    typer.echo(row["body_text"])


@stories_app.command("pin")
def stories_pin(
    ctx: typer.Context,
    story_id: int = typer.Argument(..., help="The story's id."),
    off: bool = typer.Option(False, "--off", help="Unpin instead."),
    json_out: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """Pin a story to the top of the next edition (or unpin it with --off)."""
    state(ctx).store.set_pinned(story_id, not off)
    if json_out:
        out_json({"story_id": story_id, "pinned": not off})
        return
    say(f"{'Unpinned' if off else 'Pinned'} story {story_id}")


def register(app: typer.Typer) -> None:
    app.add_typer(stories_app, name="stories")
