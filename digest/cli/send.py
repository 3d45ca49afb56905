"""The send command: send an edition to everyone on its list who has not had it."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from digest.cli.common import JSON_HELP, err, graceful_stop, out_json, progress, say, state

if TYPE_CHECKING:
    pass


def send(
    ctx: typer.Context,
    list_name: str = typer.Option(None, "--list", help="The list (default: default_list in digest.toml)."),
    date: str = typer.Option(
        None, "--date", help="The edition's date, YYYY-MM-DD (default: today, in the configured timezone)."
    ),
    provider: str = typer.Option(
        None, "--provider", help="sendgrid, smtp or outbox (default: send.provider in digest.toml)."
    ),
    dry_run: bool = typer.Option(False, "--dry-run", help="Build every message and request, send nothing."),
    to: str = typer.Option(None, "--to", help="Send one test copy to this address (marked [TEST], not recorded)."),
    retry_unknown: bool = typer.Option(
        False,
        "--retry-unknown",
        help="Re-send recipients whose batch was left unknown (a crash, a timeout, a 5xx), except those the"
        " provider's events show had it; each at most once this way.",
    ),
    wait: float = typer.Option(
        None,
        "--wait",
        metavar="SECONDS",
        help="If another process is sending this edition, wait up to this long (default: send.lock_timeout).",
    ),
    json_out: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """Send the edition to everyone on the list who has not had it yet.

    Safe to re-run: nobody gets the edition twice; recipients whose batch failed are sent again.

    Unknown recipients (a crash or timeout mid-batch) are re-sent only with --retry-unknown, once.

    Exit codes: 0 done; 3 some failed or unknown, or stopped early (SIGTERM, Ctrl-C).

    Exit code 1: the provider refused the run (e.g. a bad API key) or another process is sending the edition.

    Examples:

        digest send --to me@example.org
        digest send --provider sendgrid --dry-run
        digest send --json
    """
    st = state(ctx)
    edition_id = st.news.edition(list_name, date)
    warning = st.config.local_links_warning(provider)
    if warning and not to:
        err(warning)
    if to:
        report = st.news.send_test(edition_id, to, provider=provider, dry_run=dry_run)
    else:
        with progress() as bar, graceful_stop() as halt:
            task = bar.add_task("sending", total=None)
            report = st.news.send(
                edition_id,
                provider=provider,
                dry_run=dry_run,
                retry_unknown=retry_unknown,
                wait_s=wait,
                progress=lambda n: bar.advance(task, n),
                halt=halt,
            )
    if json_out:
        out_json(report.as_dict())
    else:
        for e in report.errors[:10]:
            err(f"provider said: {e}")
        verb = "would send" if dry_run else "sent"
        what = f"test copy to {to}" if to else f"Edition {report.edition}"
        say(
            f"{what} via {report.provider}: {verb} {report.sent}, skipped {report.skipped} (already had it),"
            f" failed {report.failed}, unknown {report.unknown}, {report.requests} request(s)"
            + (f", paused {report.paused} (not owed it)" if report.paused else "")
            + (f", {report.variants} variant(s) for readers' topics or weekly" if report.variants else "")
            + (f", {report.weekly} weekly reader(s) wait for their day" if report.weekly else "")
        )
        for note in report.notes:
            say(note)
        if retry_unknown and not dry_run:
            say(
                f"Unknown recipients: {report.resolved} had it (the provider's events say so),"
                f" {report.retried} re-sent (no event showed they had it)."
            )
        if report.unknown:
            say(
                "Unknown recipients may or may not have got it; 'digest send --retry-unknown' re-sends those"
                " the provider's events do not show had it, once."
            )
        if report.halted:
            say("Stopped before the end: run 'digest send' again to send the rest.")
    if report.failed or report.unknown or report.halted:
        raise typer.Exit(3)


def register(app: typer.Typer) -> None:
    app.command()(send)
