"""The init command: create a newsletter's home."""

from __future__ import annotations

import shlex
from typing import TYPE_CHECKING

import typer

from digest.cli.common import JSON_HELP, out_json, say, state

if TYPE_CHECKING:
    pass


def init(
    ctx: typer.Context,
    example: bool = typer.Option(False, "--example", help="Add sample sources, a list and example subscribers."),
    name: str = typer.Option("My Digest", "--name", help="The newsletter's name, shown in every email."),
    json_out: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """Create digest.toml and the store in the home (DIGEST_HOME or --home); safe to repeat.

    Examples:

        digest --home my-digest init --example
        digest init --name "Harbor Weekly"
    """
    from digest.home import init_home

    report = init_home(state(ctx).home, example=example, name=name)
    if json_out:
        out_json(
            {
                "home": str(report.home),
                "created_config": report.created_config,
                "sources": report.sources,
                "list": report.list_name,
                "subscribers": report.subscribers,
            }
        )
        return
    say(f"{'Created' if report.created_config else 'Kept'} {report.home / 'digest.toml'} and the store digest.db")
    if example:
        say(f"Example: {len(report.sources)} sources, list '{report.list_name}', {report.subscribers} subscribers")
    home = state(ctx).home
    prefix = f"digest --home {shlex.quote(str(home))}" if home else "digest"
    say(f"Next: '{prefix} run' collects, builds and sends (to outbox/ until you configure a provider).")


def register(app: typer.Typer) -> None:
    app.command()(init)
