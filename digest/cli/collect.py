"""The collect command: fetch the sources (or given files, folders, URLs) into the store."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from digest.cli.common import JSON_HELP, err, out_json, progress, say, state

if TYPE_CHECKING:
    pass


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

    Examples:

        digest collect
        digest collect ~/articles/ https://example.org/feed.xml --json
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


def register(app: typer.Typer) -> None:
    app.command()(collect)
