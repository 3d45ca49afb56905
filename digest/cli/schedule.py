"""The schedule command: the crontab line that runs 'digest run' daily."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from digest.cli.common import JSON_HELP, out_json, say, state

if TYPE_CHECKING:
    pass


def schedule(
    ctx: typer.Context,
    at: str = typer.Option("07:00", "--at", help="Time of day, HH:MM, in the machine's local time."),
    install: bool = typer.Option(False, "--install", help="Add the line to your crontab (replacing an older one)."),
    json_out: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """Print (or install) the crontab line that runs 'digest run' every day.

    The line has absolute paths, sets DIGEST_HOME and appends what each run prints to cron.log in the home
    (digest.log keeps one JSON line per run).

    Installing again replaces the older line for this home; other crontab lines are kept.

    Examples:

        digest schedule --at 06:30
        digest schedule --at 06:30 --install
    """
    from digest import schedule as schedule_mod

    config = state(ctx).config
    line = schedule_mod.cron_line(config, at)
    if install:
        schedule_mod.install(line)
    if json_out:
        out_json(
            {
                "line": line,
                "installed": install,
                "home": str(config.home),
                "log": str(config.cron_log_path),
                "run_log": str(config.log_path),
            }
        )
        return
    if install:
        say("Installed in your crontab:")
    typer.echo(line)
    hint = schedule_mod.secrets_hint(config)
    if hint:
        say(hint)


def register(app: typer.Typer) -> None:
    app.command()(schedule)
