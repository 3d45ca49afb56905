"""Commands that show the edition: render (and, later, preview)."""

from __future__ import annotations

from pathlib import Path

import typer

from digest.cli.common import say, state
from digest.errors import ConfigError, NotFoundError
from digest.render import render_edition
from digest.send import edition_mail, recipient, web_values


def register(app: typer.Typer) -> None:
    app.command()(render)


def render(
    ctx: typer.Context,
    list_name: str = typer.Option(None, "--list", help="The list (default: [default_list] in digest.toml)."),
    date: str = typer.Option(None, "--date", help="The edition's date (default: the latest edition)."),
    fmt: str = typer.Option("html", "--format", help="html, text or eml."),
    out: Path = typer.Option(None, "--out", help="Write to this file instead of stdout."),
    as_email: str = typer.Option(None, "--as", help="Render the copy this subscriber gets."),
) -> None:
    """The edition as a subscriber would get it."""
    st = state(ctx)
    if fmt not in ("html", "text", "eml"):
        raise ConfigError(f"--format {fmt!r} is not one of html, text, eml")
    list_row = st.store.list_(list_name or st.config.settings.default_list)
    edition = st.store.find_edition(list_row["id"], date)
    if edition is None:
        raise NotFoundError(f"no edition of '{list_row['name']}'{' on ' + date if date else ''}: run 'digest build'")
    rendered = render_edition(st.config, st.store, edition["id"])
    if as_email:
        from digest import tokens

        who = st.store.subscriber(as_email)
        mail = edition_mail(st.config, st.store, edition["id"], rendered)
        r = recipient(st.config, tokens.signing_key(st.store), mail, who["id"], who["email"], who["name"])
        values = r.values
    else:
        values = web_values(st.config, edition["id"])
        mail = edition_mail(st.config, st.store, edition["id"], rendered)
        r = None
    if fmt == "eml":
        from digest.send.message import build_message
        from digest.send.providers.base import Recipient

        msg = build_message(mail, r or Recipient(0, "subscriber@example.com", "", values), "digest.local")
        data = bytes(msg)
    else:
        html, text = rendered.fill(values)
        data = (html if fmt == "html" else text).encode("utf-8")
    if out:
        out.write_bytes(data)
        say(f"Wrote {out}")
    else:
        typer.echo(data.decode("utf-8"), nl=False)
