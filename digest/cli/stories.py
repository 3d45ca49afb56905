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


LIST_HELP = "The list (default: the default_list of digest.toml); pins and drops are each list's own."


@stories_app.command("pin")
def stories_pin(
    ctx: typer.Context,
    story_id: int = typer.Argument(..., help="The story's id."),
    list_name: str = typer.Option(None, "--list", help=LIST_HELP),
    off: bool = typer.Option(False, "--off", help="Unpin instead."),
    json_out: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """Pin a story to the top of the list's next editions, however old (or unpin it with --off).

    Examples:

        digest stories pin 42
        digest stories pin 42 --list weekly --off
    """
    name = state(ctx).news.pick_story(story_id, None if off else "pin", list_name)
    if json_out:
        out_json({"story_id": story_id, "list": name, "pinned": not off})
        return
    say(f"{'Unpinned' if off else 'Pinned'} story {story_id} for '{name}'")


@stories_app.command("drop")
def stories_drop(
    ctx: typer.Context,
    story_id: int = typer.Argument(..., help="The story's id."),
    list_name: str = typer.Option(None, "--list", help=LIST_HELP),
    off: bool = typer.Option(False, "--off", help="Take it back instead."),
    json_out: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """Keep a story, and the event it reports (its versions from other outlets), out of the list's next editions
    (or let it back in with --off). An edition already built keeps it until it is rebuilt.

    Examples:

        digest stories drop 42
        digest stories drop 42 --list weekly --off
    """
    name = state(ctx).news.pick_story(story_id, None if off else "drop", list_name)
    if json_out:
        out_json({"story_id": story_id, "list": name, "dropped": not off})
        return
    say(
        f"story {story_id} is back among the candidates for '{name}'"
        if off
        else f"Dropped story {story_id} from '{name}'"
    )


@stories_app.command("picks")
def stories_picks(
    ctx: typer.Context,
    list_name: str = typer.Option(None, "--list", help=LIST_HELP),
    json_out: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """Show the stories pinned and dropped for a list."""
    st = state(ctx)
    name = st.news.list_name(list_name)
    picks = st.news.list_picks(name)
    pinned = [i for i, p in picks.items() if p == "pin"]
    dropped = [i for i, p in picks.items() if p == "drop"]
    if json_out:
        out_json({"list": name, "pinned": pinned, "dropped": dropped})
        return
    rows = [{"story_id": i, "pick": p, "title": st.store.story(i).title} for i, p in picks.items()]
    if not rows:
        say(f"nothing pinned or dropped for '{name}'")
        return
    table(rows, ["story_id", "pick", "title"])


def register(app: typer.Typer) -> None:
    app.add_typer(stories_app, name="stories")
