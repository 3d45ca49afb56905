"""The init command: create a newsletter's home."""

from __future__ import annotations

import shlex
from typing import TYPE_CHECKING

import typer

from digest.cli.common import JSON_HELP, out_json, say, state
from digest.cli.shapes import InitDoc

if TYPE_CHECKING:
    pass


def init(
    ctx: typer.Context,
    example: bool = typer.Option(False, "--example", help="Add sample sources, a list and example subscribers."),
    name: str = typer.Option("My Digest", "--name", help="The newsletter's name, shown in every email."),
    address: str = typer.Option(
        None,
        "--address",
        help="Your real postal address for every email's footer (asked when run in a terminal; never made up).",
    ),
    json_out: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """Create digest.toml and the store in the home (DIGEST_HOME or --home); safe to repeat.

    Examples:

        digest --home my-digest init --example
        digest init --name "Harbor Weekly" --address "1 Quay St, Harbor City"
    """
    import sys

    from digest.config import CONFIG_FILE, resolve_home
    from digest.home import init_home, next_step

    new = not (resolve_home(state(ctx).home) / CONFIG_FILE).exists()
    if address is None and new and not json_out and sys.stdin.isatty():  # --json: stdout holds one document only
        address = typer.prompt(
            "Postal address for the footer (the law wants a real one; Enter to set it later)",
            default="",
            show_default=False,
        )
    report = init_home(state(ctx).home, example=example, name=name, address=address or "")
    home = state(ctx).home
    step = next_step(report, f"digest --home {shlex.quote(str(home))}" if home else "digest")
    if json_out:
        doc: InitDoc = {
            "home": str(report.home),
            "created_config": report.created_config,
            "sources": report.sources,
            "list": report.list_name,
            "subscribers": report.subscribers,
            "next": step,
        }
        out_json(doc)
        return
    say(f"{'Created' if report.created_config else 'Kept'} {report.home / 'digest.toml'} and the store digest.db")
    if report.created_config and not address:
        say("No postal address yet: SMTP and SendGrid refuse to send until you set [sender] address in digest.toml.")
    if example:
        say(f"Example: {len(report.sources)} sources, list '{report.list_name}', {report.subscribers} subscribers")
    if step.endswith(" run"):
        say(f"Next: '{step}' collects, builds and sends (to outbox/ until you configure a provider).")
    elif "sources add" in step:
        say(f"Next: add where stories come from, a feed URL, a file or a folder: '{step}'")
        say("Then a list to send to ('digest lists add main --from-email you@example.org'), or start from")
        say("a working example instead: 'digest init --example'.")
    else:
        say(f"Next: create a list to send to: '{step}'")


def register(app: typer.Typer) -> None:
    app.command()(init)
