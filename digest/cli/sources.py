"""The sources group: where stories come from."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from digest.cli.common import JSON_HELP, out_json, say, state, table
from digest.cli.shapes import with_aliases

if TYPE_CHECKING:
    pass


sources_app = typer.Typer(
    help="Manage where stories come from (feed URLs or files, article files or folders).", no_args_is_help=True
)


@sources_app.command("add")
def sources_add(
    ctx: typer.Context,
    location: str = typer.Argument(..., help="A feed URL, a feed or article file, or a folder of them."),
    name: str = typer.Option(None, "--name", help="A short name (default: derived from the location)."),
    weight: float = typer.Option(1.0, "--weight", min=0.0, help="How much this source counts in ranking."),
    tag: list[str] = typer.Option([], "--tag", help="A tag; repeat for more."),
    json_out: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """Add a source: a feed URL (RSS, Atom, JSON Feed), a feed or article file, or a folder of them.

    Nothing is fetched yet: 'digest collect' does that.
    """
    source = state(ctx).news.add_source(location, name=name, weight=weight, tags=tag)
    if json_out:
        out_json(with_aliases(source.public(), source_id="id"))
    say(f"Added source '{source.name}' ({source.location})")


@sources_app.command("list")
def sources_list(ctx: typer.Context, json_out: bool = typer.Option(False, "--json", help=JSON_HELP)) -> None:
    """List sources: kind (detected at the last collect), weight, tags, stories held, and health.

    Health is the last success, the consecutive failures and the last error (or, for a partial ingest,
    the last warning).
    """
    store = state(ctx).store
    counts = store.source_story_counts()
    rows = [with_aliases(s.public(), source_id="id") | {"stories": counts.get(s.id, 0)} for s in store.sources()]
    if json_out:
        out_json(rows)
        return
    for r in rows:
        r["tags"] = ",".join(r["tags"])
        r["problem"] = r["last_error"] or (f"warning: {r['last_warning']}" if r.get("last_warning") else "")
    table(
        rows,
        ["name", "kind", "weight", "tags", "stories", "last_success_at", "consecutive_failures", "problem", "location"],
    )


@sources_app.command("remove")
def sources_remove(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="The source's name."),
    json_out: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """Remove a source. Its stories stay in the store (editions may point at them)."""
    state(ctx).store.remove_source(name)
    if json_out:
        out_json({"name": name, "removed": True})
        return
    say(f"Removed source '{name}'")


def register(app: typer.Typer) -> None:
    app.add_typer(sources_app, name="sources")
