"""The render command: the edition as a subscriber gets it, or the static archive."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from digest.cli.common import JSON_HELP, State, out_json, progress, refuse, say, state
from digest.errors import ConfigError

if TYPE_CHECKING:
    pass


FORMATS = ("html", "text", "eml", "mjml")


def render(
    ctx: typer.Context,
    list_name: str = typer.Option(None, "--list", help="The list (default: [default_list] in digest.toml)."),
    date: str = typer.Option(None, "--date", help="The edition's date (default: the latest edition)."),
    fmt: str = typer.Option(
        None,
        "--format",
        show_default="html",
        help="html, text, eml (the whole message) or mjml (the template's MJML, uncompiled).",
    ),
    out: Path = typer.Option(None, "--out", help="Write to this file instead of stdout."),
    as_email: str = typer.Option(None, "--as", help="Render the copy this subscriber gets (their own links)."),
    archive: Path = typer.Option(
        None,
        "--archive",
        help="Write a static web archive into this folder instead:"
        " index.html, editions/<id>.html for every edition sent to at least one reader (of --list if given),"
        " and lists/<name>/index.html with its Atom feed lists/<name>/feed.atom.",
    ),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP + " (with --archive)"),
) -> None:
    """The edition as a subscriber would get it, or (--archive) a static archive of every sent edition.

    Examples:

        digest render --out edition.html
        digest render --format eml --as ada@example.com
        digest render --archive site/
    """
    st = state(ctx)
    if archive is not None:
        for option, given in (("--format", fmt), ("--out", out), ("--as", as_email), ("--date", date)):
            if given is not None:
                refuse(option, "with --archive (it writes every sent edition into the folder)")
        _archive(st, archive, list_name, as_json)
        return
    if as_json:
        refuse("--json", f"to --format {fmt or 'html'}: the email is the output; --json goes with --archive")
    fmt = fmt or "html"
    if fmt not in FORMATS:
        raise ConfigError(f"--format {fmt!r} is not one of {', '.join(FORMATS)}")
    data = st.news.copy(st.news.edition(list_name, date, latest=True), fmt=fmt, email=as_email)
    if out:
        from digest.render.archive import write_error

        try:
            out.write_bytes(data)
        except OSError as exc:
            raise write_error(out, exc) from None
        say(f"Wrote {out}")
    else:
        typer.echo(data.decode("utf-8"), nl=False)


def _archive(st: State, out: Path, list_name: str | None, as_json: bool) -> None:
    with progress() as bar:
        task = bar.add_task("Writing the archive", total=None)
        report = st.news.write_archive(
            out, list_name, progress=lambda done, of: bar.update(task, completed=done, total=of)
        )
    if as_json:
        out_json(report.as_dict())
    else:
        lists = len(report.lists)
        say(f"Wrote {len(report.pages)} sent edition page(s), {lists} list page(s) with feeds and {report.index}")


def register(app: typer.Typer) -> None:
    app.command()(render)
