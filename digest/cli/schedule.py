"""The schedule command: the crontab line that runs 'digest run' daily or hourly, and each list's rhythm."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from digest.cli.common import JSON_HELP, out_json, say, state

if TYPE_CHECKING:
    pass


def schedule(
    ctx: typer.Context,
    at: str = typer.Option(
        "07:00", "--at", help="Time of day, HH:MM, in the machine's local time (with --hourly: its minute)."
    ),
    hourly: bool = typer.Option(
        False, "--hourly", help="Run every hour, so lists with a send time reach each reader at their local time."
    ),
    install: bool = typer.Option(False, "--install", help="Add the line to your crontab (replacing an older one)."),
    json_out: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """Print (or install) the crontab line that runs 'digest run' every day, or every hour.

    The line has absolute paths, sets DIGEST_HOME and appends what each run prints to cron.log in the home
    (digest.log keeps one JSON line per run). Each list's rhythm follows, in the list's timezone.

    With --hourly, lists' own send times and timezones are honoured: a list with --send-at reaches each reader
    once their local time has passed it (their timezone, else the list's), once a day; a weekly list goes on its
    day in the list's timezone; a list without a send time goes at each run, as with a daily line.

    Installing again replaces the older line for this home; other crontab lines are kept.

    Examples:

        digest schedule --at 06:30
        digest schedule --hourly --install
    """
    from digest import clock
    from digest import schedule as schedule_mod

    st = state(ctx)
    config = st.config
    line = schedule_mod.cron_line(config, at, hourly=hourly)
    rhythms = schedule_mod.rhythms(config, st.store.lists(), at, hourly, clock.now())
    if install:
        schedule_mod.install(line)
    if json_out:
        out_json(
            {
                "line": line,
                "installed": install,
                "hourly": hourly,
                "home": str(config.home),
                "log": str(config.cron_log_path),
                "run_log": str(config.log_path),
                "lists": [r.as_dict() for r in rhythms],
            }
        )
        return
    if install:
        say("Installed in your crontab:")
    typer.echo(line)
    if hourly:
        say(
            "Every hour: lists' own send times and timezones are honoured (each reader at their local send time,"
            " once a day; weekly lists on their day in the list's timezone):"
        )
    elif rhythms:
        say("Once a day; each list in its own timezone:")
    for rhythm in rhythms:
        say(f"  {rhythm.note}")
    hint = schedule_mod.secrets_hint(config)
    if hint:
        say(hint)


def register(app: typer.Typer) -> None:
    app.command()(schedule)
