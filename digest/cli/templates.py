"""The templates group: copy and list the email templates."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from digest.cli.common import JSON_HELP, out_json, say, state, table

if TYPE_CHECKING:
    pass


templates_app = typer.Typer(
    help="The email templates: copy the defaults into your home to edit them.", no_args_is_help=True
)


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
    from digest.render.templates import template_overview

    rows = template_overview(state(ctx).config)
    if as_json:
        out_json(rows)
        return

    table(rows, ["template", "overridden", "path"])


def register(app: typer.Typer) -> None:
    app.add_typer(templates_app, name="templates")
