"""Commands that show the edition: render (and the static archive), preview, templates."""

from __future__ import annotations

import threading
import webbrowser
from pathlib import Path
from urllib.parse import urlencode

import typer

from digest.cli.common import JSON_HELP, State, out_json, progress, say, state
from digest.errors import ConfigError, NotFoundError

FORMATS = ("html", "text", "eml", "mjml")

templates_app = typer.Typer(
    help="The email templates: copy the defaults into your home to edit them.", no_args_is_help=True
)


def register(app: typer.Typer) -> None:
    app.command()(render)
    app.command()(preview)
    app.add_typer(templates_app, name="templates")


def render(
    ctx: typer.Context,
    list_name: str = typer.Option(None, "--list", help="The list (default: [default_list] in digest.toml)."),
    date: str = typer.Option(None, "--date", help="The edition's date (default: the latest edition)."),
    fmt: str = typer.Option(
        "html", "--format", help="html, text, eml (the whole message) or mjml (the template's MJML, uncompiled)."
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
    """The edition as a subscriber would get it, or (--archive) a static archive of every sent edition."""
    from digest.render import render_edition
    from digest.send import edition_mail, recipient, web_values

    st = state(ctx)
    if archive is not None:
        _archive(st, archive, list_name, as_json)
        return
    if fmt not in FORMATS:
        raise ConfigError(f"--format {fmt!r} is not one of {', '.join(FORMATS)}")
    list_row = st.store.list_(list_name or st.config.settings.default_list)
    edition = st.store.find_edition(list_row.id, date)
    if edition is None:
        raise NotFoundError(f"no edition of '{list_row.name}'{' on ' + date if date else ''}: run 'digest build'")
    rendered = render_edition(st.store, st.config, edition["id"])
    mail = edition_mail(st.config, st.store, edition["id"], rendered)
    if as_email:
        from digest import tokens

        who = st.store.subscriber(as_email)
        r = recipient(st.config, tokens.signing_key(st.store), mail, who.id, who.email, who.name)
        values = r.values
    else:
        values = web_values(st.config, edition["id"])
        r = None
    if fmt == "eml":
        from digest.send.message import build_message
        from digest.send.providers.base import Recipient

        msg = build_message(mail, r or Recipient(0, "subscriber@example.com", "", values), "digest.local")
        data = bytes(msg)
    elif fmt == "mjml":
        data = rendered.mjml.encode("utf-8")
    else:
        html, text = rendered.fill(values)
        data = (html if fmt == "html" else text).encode("utf-8")
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
    from digest.render.archive import entries, write_archive
    from digest.send import web_values

    list_id = st.store.list_(list_name).id if list_name else None
    count = len(entries(st.store, list_id))
    with progress() as bar:
        task = bar.add_task("Writing the archive", total=count)
        report = write_archive(
            st.config,
            st.store,
            out,
            lambda eid: web_values(st.config, eid),
            list_id,
            progress=lambda n: bar.advance(task, n),
        )
    if as_json:
        out_json(report.as_dict())
    else:
        lists = len(report.lists)
        say(f"Wrote {len(report.pages)} sent edition page(s), {lists} list page(s) with feeds and {report.index}")


def preview(
    ctx: typer.Context,
    port: int = typer.Option(8001, "--port", help="Port on 127.0.0.1."),
    open_browser: bool = typer.Option(False, "--open", help="Open the preview in your web browser."),
    list_name: str = typer.Option(None, "--list", help="The list (default: [default_list] in digest.toml)."),
    date: str = typer.Option(None, "--date", help="The edition's date (default: the latest edition)."),
) -> None:
    """Serve the edition on 127.0.0.1 for a browser, live-reloading.

    One page shows the subject and preheader, the email in desktop (600 px) and mobile (375 px) frames,
    the plain-text part and why each story was picked; it reloads when a template or the store changes.
    """
    from digest.web import serve

    st = state(ctx)
    st.store  # noqa: B018 - fail early, with a clear line, when the home is not initialised
    query = urlencode({k: v for k, v in (("list", list_name), ("date", date)) if v})

    def ready(base: str) -> None:  # the socket is bound: the real port is known and the page will answer
        url = f"{base}/" + (f"?{query}" if query else "")
        say(f"Previewing on {url} (Ctrl-C to stop)")
        if open_browser:
            threading.Timer(1.0, webbrowser.open, args=(url,)).start()

    serve(st.config, "127.0.0.1", port, preview=True, ready=ready)


@templates_app.command("init")
def templates_init(
    ctx: typer.Context,
    force: bool = typer.Option(False, "--force", help="Overwrite files you already have in templates/."),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """Copy the default templates into the home's templates/ folder, where they override the defaults."""
    from digest.render.templates import copy_defaults

    st = state(ctx)
    written, kept = copy_defaults(st.config, force=force)
    if as_json:
        out_json(
            {
                "templates_dir": str(st.config.templates_dir),
                "written": [str(p) for p in written],
                "kept": [str(p) for p in kept],
            }
        )
        return
    for path in written:
        say(f"Wrote {path}")
    if kept:
        say(f"Kept {len(kept)} file(s) you already have (use --force to overwrite them)")
    say(f"Edit the files in {st.config.templates_dir}; 'digest preview' shows your changes as you save.")


@templates_app.command("list")
def templates_list(
    ctx: typer.Context,
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """Each template and whether your home's templates/ overrides it."""
    from digest.render.templates import default_templates_dir, template_files

    st = state(ctx)
    rows = [
        {
            "template": str(rel),
            "overridden": (st.config.templates_dir / rel).is_file(),
            "path": str(
                st.config.templates_dir / rel
                if (st.config.templates_dir / rel).is_file()
                else default_templates_dir() / rel
            ),
        }
        for rel in template_files()
    ]
    if as_json:
        out_json(rows)
        return
    from digest.cli.common import table

    table(rows, ["template", "overridden", "path"])
