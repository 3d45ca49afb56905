"""Commands that set a newsletter up and run it: init, run, schedule."""

from __future__ import annotations

import shlex

import typer

from digest.cli.common import JSON_HELP, err, out_json, parse_now, say, state


def register(app: typer.Typer) -> None:
    app.command()(init)
    app.command()(run)
    app.command()(schedule)


def init(
    ctx: typer.Context,
    example: bool = typer.Option(False, "--example", help="Add sample sources, a list and example subscribers."),
    name: str = typer.Option("My Digest", "--name", help="The newsletter's name, shown in every email."),
    json_out: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """Create digest.toml and the store in the home (DIGEST_HOME or --home); safe to repeat."""
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


def run(
    ctx: typer.Context,
    now: str = typer.Option(None, "--now", help="Pretend it is this ISO time (for reruns and tests)."),
    provider: str = typer.Option(None, "--provider", help="Override [send] provider: sendgrid, smtp or outbox."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Build everything, send nothing."),
    retry_unknown: bool = typer.Option(
        False, "--retry-unknown", help="Also re-send recipients a crash left unknown (each at most once)."
    ),
    wait: float = typer.Option(
        None, "--wait", metavar="SECONDS", help="Wait this long for another process sending the same edition."
    ),
    json_out: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """Collect, build and send every list: the one command cron calls. Safe to re-run.

    Exit codes: 0 done (or nothing new to send); 1 an error to fix (e.g. a refused API key).

    Exit code 3: partly done (some sources or recipients failed, some are unknown, or SIGTERM stopped it early).

    Each run appends one JSON line to digest.log in the home.
    """
    from digest import pipeline
    from digest.cli.mail import graceful_stop

    st = state(ctx)
    with graceful_stop() as halt:
        report = pipeline.run(
            st.store,
            st.config,
            now=parse_now(now),
            provider=provider,
            dry_run=dry_run,
            retry_unknown=retry_unknown,
            wait_s=wait,
            halt=halt,
            on_event=None if json_out else say,
            on_error=None if json_out else err,
        )
    if json_out:
        out_json(report.as_dict())
    else:
        for entry in report.lists:
            if entry.get("error"):
                err(f"Error: {entry['list']}: {entry['error']}")
            if entry.get("web_copy"):
                say(f"Open the rendered digest in a browser: {entry['web_copy']}")
    if report.exit_code:
        raise typer.Exit(report.exit_code)


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
