"""The build command: freeze an edition."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from digest.cli.common import JSON_HELP, err, out_json, parse_now, say, state

if TYPE_CHECKING:
    pass


def build(
    ctx: typer.Context,
    list_name: str = typer.Option(None, "--list", help="The list (default: default_list in digest.toml)."),
    date: str = typer.Option(None, "--date", help="The edition's date, YYYY-MM-DD (default: today)."),
    now: str = typer.Option(None, "--now", help="Rank as of this ISO time (default: now)."),
    json_out: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """Freeze the edition for a list and date, so preview, render and send use exactly it.

    Examples:

        digest build
        digest build --list weekly --date 2026-11-24 --json
    """
    from digest import pipeline

    st = state(ctx)
    report = pipeline.build_edition(
        st.store, st.config, list_name or st.config.settings.default_list, date=date, now=parse_now(now)
    )
    for warning in report.warnings:
        err(f"warning: {warning}")
    if json_out:
        out_json(report.as_dict())
        return
    note = " (already sent or sending: kept as it was)" if report.frozen else ""
    if report.frozen and report.approved:
        note = " (approved: kept as approved; a change on the desk reopens it)"
    say(f"Edition {report.edition} for '{report.list}' on {report.date}{note}: {report.subject}")
    for s in report.stories:
        typer.echo(f"{s.rank:>2}. {s.title}")


def register(app: typer.Typer) -> None:
    app.command()(build)
