"""Commands that send: send."""

from __future__ import annotations

import typer

from digest.cli.common import JSON_HELP, err, out_json, progress, say, state
from digest.errors import NotFoundError
from digest.send import send_edition, send_test


def register(app: typer.Typer) -> None:
    app.command()(send)


def send(
    ctx: typer.Context,
    list_name: str = typer.Option(None, "--list", help="The list (default: [default_list])."),
    date: str = typer.Option(None, "--date", help="The edition's date (default: the latest edition)."),
    provider: str = typer.Option(None, "--provider", help="sendgrid, smtp or outbox (default: [send] provider)."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Build every message, send nothing."),
    to: str = typer.Option(None, "--to", help="Send one test copy to this address (not recorded)."),
    retry_unknown: bool = typer.Option(
        False, "--retry-unknown",
        help="Re-send batches a crash left in flight. Their recipients may get the edition twice.",
    ),
    json_out: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """Send the edition to everyone on the list who has not had it yet.

    Exit code 3 when some recipients failed or are unknown (a crash mid-batch).
    """
    st = state(ctx)
    list_row = st.store.list_(list_name or st.config.settings.default_list)
    edition = st.store.find_edition(list_row["id"], date)
    if edition is None:
        raise NotFoundError(f"no edition of '{list_row['name']}'{' on ' + date if date else ''}: run 'digest build'")
    if to:
        report = send_test(st.store, st.config, edition["id"], to, provider)
    else:
        with progress() as bar:
            task = bar.add_task("sending", total=None)
            report = send_edition(st.store, st.config, edition["id"], provider=provider, dry_run=dry_run,
                                  retry_unknown=retry_unknown, progress=lambda n: bar.advance(task, n))
    if json_out:
        out_json(report.as_dict())
    else:
        for e in report.errors[:10]:
            err(f"provider said: {e}")
        verb = "would send" if dry_run else "sent"
        say(f"Edition {report.edition} via {report.provider}: {verb} {report.sent}, already had it {report.skipped},"
            f" failed {report.failed}, unknown {report.unknown}, {report.requests} request(s)")
        if report.unknown:
            say("Unknown batches may or may not have arrived; 'digest send --retry-unknown' re-sends them.")
    if report.failed or report.unknown:
        raise typer.Exit(3)
