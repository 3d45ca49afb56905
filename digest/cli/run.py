"""The run command: collect, build and send every list (what cron calls)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from digest.cli.common import (
    JSON_HELP,
    err,
    graceful_stop,
    out_json,
    parse_now,
    progress,
    say,
    stamp_lines,
    state,
    stderr,
)

if TYPE_CHECKING:
    from rich.progress import TaskID


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

    A list set to --require-approval is built and held: nothing goes until 'digest edition approve' (exit 0, the
    line says which edition waits and how to approve it).

    Exit code 3: partly done (some sources or recipients failed, some are unknown, or SIGTERM stopped it early).

    Each run appends one JSON line to digest.log in the home.

    Examples:

        digest run
        digest run --dry-run --json
    """
    from digest import pipeline

    st = state(ctx)
    if not stderr().is_terminal:
        stamp_lines()  # cron appends this to cron.log: each line says when it happened
    with graceful_stop() as halt, progress() as bar:
        tasks: dict[str, TaskID] = {}

        def step(what: str, n: int, total: int | None) -> None:
            if what not in tasks:
                tasks[what] = bar.add_task(what, total=total)
            elif total is not None:
                bar.update(tasks[what], total=total)
            bar.advance(tasks[what], n)

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
            on_progress=step,
        )
    if json_out:
        out_json(report.as_dict())
    else:
        for entry in report.lists:
            if entry.error:
                err(f"Error: {entry.list}: {entry.error}")
            if entry.web_copy:
                # a file:// URL: terminals make it a link, and a browser takes it as it is
                say(f"Open the rendered digest in a browser: {entry.web_copy.resolve().as_uri()}")
    if report.exit_code:
        raise typer.Exit(report.exit_code)


def register(app: typer.Typer) -> None:
    app.command()(run)
