"""Commands that send and report on sending: send, stats, subscribers sync-suppressions."""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date as date_type
from types import FrameType

import typer

from digest import clock
from digest.cli.common import JSON_HELP, err, out_json, progress, say, state, table
from digest.errors import ConfigError, NotFoundError


def register(app: typer.Typer) -> None:
    from digest.cli.people import subs_app

    app.command()(send)
    app.command()(stats)
    subs_app.command("sync-suppressions")(subs_sync_suppressions)


@contextmanager
def graceful_stop() -> Iterator[threading.Event]:
    """SIGTERM (cron's timeout, systemd) or Ctrl-C: stop starting batches, let those in flight finish.

    A second signal stops at once (batches then in flight are reported unknown on the next run).
    """
    halt = threading.Event()

    def handler(signum: int, frame: FrameType | None) -> None:
        if halt.is_set():
            raise KeyboardInterrupt
        halt.set()
        err("Stopping after the batches in flight (again to stop at once; they would then be unknown).")

    try:
        previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGTERM, signal.SIGINT)}
    except ValueError:  # not the main thread (e.g. under a test runner's thread): no handlers
        yield halt
        return
    try:
        yield halt
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


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
        help="Re-send recipients whose batch was left unknown (a crash, a timeout); each at most once this way."
        " They may get the edition twice.",
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
    """
    from digest.pipeline import local_date
    from digest.send import send_edition, send_test
    from digest.subscribers import normalize_email

    st = state(ctx)
    if to:
        to = normalize_email(to)  # SubscriberError (exit 1) saying why it is not an address
    if date is not None:
        try:
            date_type.fromisoformat(date)
        except ValueError:
            raise ConfigError(f"--date {date!r} is not a date; use YYYY-MM-DD") from None
    list_row = st.store.list_(list_name or st.config.settings.default_list)
    day = date or local_date(st.config, clock.now())
    edition = st.store.find_edition(list_row.id, day)
    if edition is None:
        hint = "" if date else " (or pass --date)"
        raise NotFoundError(f"no edition of '{list_row.name}' for {day}: run 'digest build'{hint}")
    warning = st.config.local_links_warning(provider)
    if warning and not to:
        err(warning)
    if to:
        report = send_test(st.store, st.config, edition["id"], to, provider, dry_run=dry_run)
    else:
        with progress() as bar, graceful_stop() as halt:
            task = bar.add_task("sending", total=None)
            report = send_edition(
                st.store,
                st.config,
                edition["id"],
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
            f"{what} via {report.provider}: {verb} {report.sent}, already had it {report.skipped},"
            f" failed {report.failed}, unknown {report.unknown}, {report.requests} request(s)"
        )
        if report.unknown:
            say("Unknown recipients may or may not have got it; 'digest send --retry-unknown' re-sends them once.")
        if report.halted:
            say("Stopped before the end: run 'digest send' again to send the rest.")
    if report.failed or report.unknown or report.halted:
        raise typer.Exit(3)


def stats(
    ctx: typer.Context,
    edition: int = typer.Option(None, "--edition", help="One edition's id (default: every edition)."),
    json_out: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """Per edition: sent, failed, unknown (the ledger) and people delivered, bounced, opened, clicked, unsubscribed.

    Delivery figures come from SendGrid's Event Webhook, received by 'digest serve' at /webhooks/sendgrid.
    """
    st = state(ctx)
    rows = st.store.edition_stats(edition)
    if edition is not None and not rows:
        raise NotFoundError(f"no edition with id {edition}: see 'digest stats' for the editions")
    if json_out:
        out_json(rows)
        return
    table(
        rows,
        [
            "edition",
            "list",
            "date",
            "sent",
            "failed",
            "unknown",
            "delivered",
            "bounced",
            "opened",
            "clicked",
            "unsubscribed",
            "complained",
        ],
    )


def subs_sync_suppressions(
    ctx: typer.Context,
    json_out: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """Pull SendGrid's global unsubscribes, bounces and spam reports into subscription statuses.

    Needs SENDGRID_API_KEY with read access to suppressions (DIGEST_SENDGRID_HOST points elsewhere).
    """
    from digest.send.events import sync_suppressions
    from digest.send.providers.sendgrid import SendGridProvider

    st = state(ctx)
    provider = SendGridProvider.from_config(st.config)
    report = sync_suppressions(st.store, provider)
    if json_out:
        out_json(report)
        return
    for kind, counts in report.items():
        say(f"{kind}: {counts['listed']} at SendGrid, {counts['changed']} subscription(s) changed")
