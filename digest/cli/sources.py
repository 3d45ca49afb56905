"""The sources group: where stories come from."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from digest.cli.common import JSON_HELP, err, out_json, say, state, table
from digest.cli.shapes import with_aliases
from digest.errors import NotFoundError

if TYPE_CHECKING:
    pass


sources_app = typer.Typer(
    help="Manage where stories come from (feed URLs or files, article files or folders).", no_args_is_help=True
)


@sources_app.command("add")
def sources_add(
    ctx: typer.Context,
    location: str = typer.Argument(..., help="A feed URL, a feed or article file, or a folder of them."),
    name: str = typer.Option(
        None, "--name", help="A short name for commands (default: the host or file name, made unique)."
    ),
    weight: float = typer.Option(1.0, "--weight", min=0.0, help="How much this source counts in ranking."),
    tag: list[str] = typer.Option([], "--tag", help="A tag; repeat for more."),
    title: str = typer.Option(None, "--title", help="The name readers see (default: the feed's own title)."),
    no_check: bool = typer.Option(False, "--no-check", help="Add it without looking at it first."),
    json_out: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """Add a source: a feed URL (RSS, Atom, JSON Feed), a feed or article file, or a folder of them.

    It is fetched (or read) once to say what it holds (its title and items), or why digest cannot read it
    (a 404, a page that is not a feed: it is added all the same, to fix later); --no-check skips the look.
    'digest collect' stores its stories.
    """
    from dataclasses import asdict

    st = state(ctx)
    found = None
    if not no_check:
        from digest.collect import probe

        found = probe(st.config.settings.collect, location)
    source = st.news.add_source(location, name=name, weight=weight, tags=tag, title=title or "")
    if json_out:
        out_json(with_aliases(source.public(), source_id="id") | {"check": asdict(found) if found else None})
        return
    say(f"Added source '{source.name}' ({source.location})" + (f": {found.line()}" if found and found.ok else ""))
    if found and not found.ok:
        err(f"warning: {location} is {found.line()}; fix it ('digest sources edit', 'sources remove') or wait for it")


@sources_app.command("edit")
def sources_edit(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="The source's name (see 'digest sources list')."),
    title: str = typer.Option(
        None, "--title", help="The name readers see (default: the feed's own title); '' goes back to the feed's."
    ),
    weight: float = typer.Option(None, "--weight", min=0.0, help="How much this source counts in ranking."),
    tag: list[str] = typer.Option(None, "--tag", help="A tag; repeat for more. Replaces the source's tags."),
    no_tags: bool = typer.Option(False, "--no-tags", help="Remove every tag."),
    rename: str = typer.Option(None, "--rename", help="A new name for the source; its stories stay with it."),
    json_out: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """Change a source's display name, weight, tags or name. Its stories stay attached."""
    tags = [] if no_tags else (tag or None)
    source = state(ctx).store.edit_source(name, title=title, weight=weight, tags=tags, rename=rename)
    if json_out:
        out_json(with_aliases(source.public(), source_id="id"))
    say(f"Source '{source.name}': readers see '{source.display_name}', weight {source.weight:g}")


@sources_app.command("import")
def sources_import(
    ctx: typer.Context,
    path: Path = typer.Argument(..., help="An OPML file exported from a feed reader."),
    weight: float = typer.Option(1.0, "--weight", min=0.0, help="The weight of every source added."),
    tag: list[str] = typer.Option([], "--tag", help="A tag for every source added; repeat for more."),
    json_out: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """Add every feed of an OPML file as a source; its folders become tags. Feeds already added are skipped.

    Nothing is fetched yet: 'digest collect' does that.
    """
    from digest.collect.sources import import_opml

    if not path.is_file():
        raise NotFoundError(f"{path} does not exist: give the OPML file your feed reader exported")
    report = import_opml(state(ctx).store, path.read_bytes(), weight=weight, tags=tag)
    if json_out:
        doc = report.as_dict()
        out_json(doc | {"added": [with_aliases(a, source_id="id") for a in doc["added"]]})
        return
    for skipped in report.skipped:
        err(f"skipped: {skipped['location']}: {skipped['why']}")
    say(f"{len(report.added)} source(s) added, {len(report.skipped)} skipped")


@sources_app.command("export")
def sources_export(
    ctx: typer.Context,
    opml: bool = typer.Option(False, "--opml", help="OPML 2.0, for feed readers (the default format)."),
    output: Path = typer.Option(None, "--output", "-o", help="Write to this file (default: standard output)."),
    json_out: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """Write every source as OPML (feed readers import it), or as JSON with --json."""
    from digest.collect.sources import export_opml

    st = state(ctx)
    sources = st.store.sources()
    if json_out:
        out_json([with_aliases(s.public(), source_id="id") for s in sources])
        return
    text = export_opml(sources, st.config.settings.name)
    if output is None:
        typer.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
        say(f"{len(sources)} source(s) written to {output}")


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
        r["readers_see"] = r["display_name"]
        r["problem"] = r["last_error"] or (f"warning: {r['last_warning']}" if r.get("last_warning") else "")
    table(
        rows,
        [
            "name",
            "readers_see",
            "kind",
            "weight",
            "tags",
            "stories",
            "last_success_at",
            "consecutive_failures",
            "problem",
            "location",
        ],
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
