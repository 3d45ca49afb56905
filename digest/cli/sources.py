"""Commands about stories coming in: sources, collect, stories."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import typer

from digest.cli.common import JSON_HELP, err, out_json, parse_now, progress, say, state, table
from digest.errors import NotFoundError

sources_app = typer.Typer(
    help="Manage where stories come from (feed URLs or files, article files or folders).", no_args_is_help=True
)
stories_app = typer.Typer(help="What is in the store.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(sources_app, name="sources")
    app.command()(collect)
    app.add_typer(stories_app, name="stories")


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
    st = state(ctx)
    if not location.startswith(("http://", "https://")):
        path = Path(location).expanduser()
        if not path.exists():
            raise NotFoundError(f"{location} does not exist: give a feed URL, a file or a folder")
        location = str(path.resolve())
    name = name or _default_name(location)
    source = st.store.add_source(name, location, weight=weight, tags=tag)
    if json_out:
        out_json(source.public())
    say(f"Added source '{name}' ({location})")


def _default_name(location: str) -> str:
    if location.startswith(("http://", "https://")):
        from urllib.parse import urlsplit

        return urlsplit(location).netloc or location
    return Path(location).stem


@sources_app.command("list")
def sources_list(ctx: typer.Context, json_out: bool = typer.Option(False, "--json", help=JSON_HELP)) -> None:
    """List sources: kind (detected at the last collect), weight, tags, stories held, and health.

    Health is the last success, the consecutive failures and the last error (or, for a partial ingest,
    the last warning).
    """
    store = state(ctx).store
    counts = store.source_story_counts()
    rows = [s.public() | {"stories": counts.get(s.id, 0)} for s in store.sources()]
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
def sources_remove(ctx: typer.Context, name: str = typer.Argument(..., help="The source's name.")) -> None:
    """Remove a source. Its stories stay in the store (editions may point at them)."""
    state(ctx).store.remove_source(name)
    say(f"Removed source '{name}'")


def collect(
    ctx: typer.Context,
    locations: list[str] = typer.Argument(None, help="Files, folders or URLs to ingest (default: every source)."),
    json_out: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """Fetch every source, or ingest the given files, folders or URLs.

    Formats are detected from the content: RSS, Atom, JSON Feed, HTML article pages, plain-text or
    Markdown articles. Unchanged sources (HTTP 304, or the same bytes) cost one request and add nothing.
    A broken source is reported (partial ingests are said so) and the others are still stored.
    Exit code 3 when some sources failed (the others are stored), 1 when all of them did.
    """
    from digest.collect import collect as collect_stories

    st = state(ctx)
    with progress() as bar:
        total = len(locations) if locations else len(st.store.sources())
        fetching = bar.add_task("fetching", total=total)
        storing = bar.add_task("storing", total=total)
        report = collect_stories(
            st.store,
            st.config,
            locations or None,
            fetched=lambda _name: bar.advance(fetching),
            progress=lambda _r: bar.advance(storing),
        )
    if not report.sources:
        err("no sources to collect: add one with 'digest sources add LOCATION' or name files, folders or URLs")
    if json_out:
        out_json(report.as_dict())
    else:
        for s in report.sources:
            if s.error:
                err(f"failed: {s.name}: {s.error}")
            elif s.warning:
                err(f"warning: {s.name}: {s.warning}")
        say(f"{report.new} new, {report.updated} updated, {report.unchanged} unchanged, {report.failed} failed")
    if report.failed:
        raise typer.Exit(1 if report.failed == len(report.sources) else 3)


@stories_app.command("list")
def stories_list(
    ctx: typer.Context,
    since: str = typer.Option(None, "--since", help="Only stories published since this date or ISO time."),
    limit: int = typer.Option(50, "--limit", min=1, help="At most this many."),
    json_out: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """List stories, newest first."""
    rows = [asdict(s) for s in state(ctx).store.stories(parse_now(since, "--since"), limit)]
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
    row = state(ctx).store.story(story_id).as_dict()
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
) -> None:
    """Pin a story to the top of the next edition (or unpin it with --off)."""
    state(ctx).store.set_pinned(story_id, not off)
    say(f"{'Unpinned' if off else 'Pinned'} story {story_id}")
