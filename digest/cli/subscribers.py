"""The subscribers group: add, import, export, sync, unsubscribe, remove people."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from digest.cli.common import JSON_HELP, State, err, out_json, out_json_array, progress, refuse, say, state, table
from digest.cli.shapes import with_aliases
from digest.errors import SubscriberError
from digest.models import STATUSES

if TYPE_CHECKING:
    pass


subs_app = typer.Typer(
    help="Manage people: add, import, export, sync, unsubscribe, remove (erase). Nobody who left is"
    " subscribed again without --force-resubscribe.",
    no_args_is_help=True,
)


FORCE_HELP = (
    "Subscribe again people who unsubscribed, bounced, complained or were erased (and forget the"
    " erasure). Use it only when they gave new consent, e.g. signed up again."
)


LIST_HELP = "The list (default: default_list in digest.toml)."


DELIVERABILITY_HELP = "Also ask DNS whether each domain accepts mail (slow; off by default)."


STATUS_HELP = (
    "Status for new subscriptions: confirmed or unconfirmed (default: unconfirmed on double opt-in"
    " lists, else confirmed)."
)


def _list_name(st: State, given: str | None) -> str:
    return given or st.config.settings.default_list


@subs_app.command("add")
def subs_add(
    ctx: typer.Context,
    email: str = typer.Argument(..., help="The address."),
    name: str = typer.Option("", "--name", help="Their name."),
    list_name: str = typer.Option(None, "--list", help=LIST_HELP),
    attributes: str = typer.Option(None, "--attributes", help='A JSON object, e.g. \'{"city": "Oslo"}\'.'),
    status: str = typer.Option(None, "--status", help=STATUS_HELP),
    force_resubscribe: bool = typer.Option(False, "--force-resubscribe", help=FORCE_HELP),
    check_deliverability: bool = typer.Option(False, "--check-deliverability", help=DELIVERABILITY_HELP),
    no_email: bool = typer.Option(
        False, "--no-email", help="Do not send the confirmation mail; only print the link (for you to deliver)."
    ),
    topic: list[str] = typer.Option([], "--topic", help="A topic they follow (a source tag); repeat."),
    timezone: str = typer.Option(
        None, "--timezone", help="Their timezone, e.g. America/Los_Angeles: a list's --send-at is their local time."
    ),
    json_out: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """Subscribe one person to a list. On a double opt-in list, sends them the confirmation mail.

    It goes through [send] provider, from templates/confirm.*; with --no-email the link is only printed.

    --topic and --timezone are kept in their attributes as an import keeps them; without --timezone a list
    with a send time reaches them at its own timezone's hour.

    Examples:

        digest subscribers add ada@example.com --name Ada --timezone Europe/Paris --topic science
    """
    from digest import subscribers

    added = state(ctx).news.subscribe(
        email,
        list_name,
        name=name,
        attributes=subscribers.parse_attributes(attributes) if attributes is not None else None,
        status=status,
        force=force_resubscribe,
        check_deliverability=check_deliverability,
        send_confirmation=not no_email,
        topics=topic,
        timezone=timezone,
    )
    if json_out:
        out_json(with_aliases(added.as_dict(), subscriber_id="id"))
        return
    say(f"{added.email}: {added.status} on '{added.list}'")
    if added.mail is not None and added.mail["status"] == "sent":
        say(f"They get no mail until they confirm; the confirmation mail went through {added.mail['provider']}.")
    elif added.mail is not None:
        err(f"the confirmation mail was not sent ({added.mail['status']}: {added.mail['error']}); send them this link:")
        typer.echo(added.confirm_url)
    elif added.confirm_url:
        say("They get no mail until they confirm; send them this link:")
        typer.echo(added.confirm_url)


@subs_app.command("unsubscribe")
def subs_unsubscribe(
    ctx: typer.Context,
    email: str = typer.Argument(..., help="The address."),
    list_name: str = typer.Option(None, "--list", help="Only this list (default: every list they are on)."),
    json_out: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """Unsubscribe someone (kept on file as unsubscribed, so no import adds them back)."""
    from digest import subscribers

    left = subscribers.unsubscribe(state(ctx).store, email, list_name)
    if json_out:
        out_json({"email": email, "unsubscribed": left})
    else:
        say(f"{email}: unsubscribed from {', '.join(left)}" if left else f"{email}: was not subscribed")


@subs_app.command("remove")
def subs_remove(
    ctx: typer.Context,
    email: str = typer.Argument(..., help="The address."),
    yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask for confirmation."),
    json_out: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """Erase a person (right to erasure): their record, subscriptions and address in the send ledger.

    Their .eml files in the outbox and the log lines naming them go too. Only a one-way hash of the
    address is kept, so an import cannot add them back by accident.
    """
    from digest import subscribers

    st = state(ctx)
    if not yes:
        try:
            answer = typer.confirm(f"Erase {email} and everything about them?", err=True)
        except typer.Abort:  # no answer: stdin ended (a script, a pipe from nothing)
            _end_prompt_line()
            raise SubscriberError(
                f"{email} was not erased: no answer (y or n) was read; pass --yes to erase without asking"
            ) from None
        if not answer:
            _end_prompt_line()
            raise SubscriberError(f"{email} was not erased (you answered no); pass --yes to erase without asking")
    erased = subscribers.remove(st.store, email, st.config)
    if json_out:
        out_json({"email": erased.email, "erased": True, "files": erased.files, "log_lines": erased.log_lines})
    else:
        say(
            f"{erased.email}: erased (with {erased.files} outbox file(s) and {erased.log_lines} log line(s)"
            " that named them)"
        )


def _end_prompt_line() -> None:
    """An answer piped in is not echoed: end the question's line so the error starts on its own."""
    if not sys.stdin.isatty():
        typer.echo("", err=True)


@subs_app.command("show")
def subs_show(
    ctx: typer.Context,
    email: str = typer.Argument(..., help="The address."),
    json_out: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """One person: name, attributes, subscriptions and every edition they were sent."""
    from digest import subscribers

    info = subscribers.show(state(ctx).store, email)
    if json_out:
        out_json(with_aliases(info, subscriber_id="id"))
        return
    typer.echo(f"{info['email']}  {info['name']}  (since {info['created_at']})")
    if info["attributes"]:
        typer.echo(f"attributes: {info['attributes']}")
    typer.echo("")
    table(info["subscriptions"], ["list", "status", "updated_at"])
    typer.echo("")
    table(info["sent"], ["edition", "list", "date", "status", "subject"])


@subs_app.command("list")
def subs_list(
    ctx: typer.Context,
    list_name: str = typer.Option(None, "--list", help="Only this list."),
    status: str = typer.Option(None, "--status", help="Only this status: " + ", ".join(STATUSES) + "."),
    json_out: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """List subscribers and their status per list; ``receives`` says whether they get the next edition."""
    from digest import subscribers

    rows = (with_aliases(r, subscriber_id="id") for r in subscribers.roster(state(ctx).store, list_name, status))
    if json_out:
        out_json_array(rows)  # streamed: a million readers cost no more memory than ten
        return
    table(
        ({**r, "receives": "yes" if r["receives"] else "no"} for r in rows),  # streamed, a page at a time
        ["email", "name", "list", "status", "receives"],
    )


@subs_app.command("import")
def subs_import(
    ctx: typer.Context,
    file: Path = typer.Argument(
        ...,
        help="A CSV with a header: email,name,attributes (attributes as JSON), or an export from another tool"
        " (see --from).",
    ),
    source: str = typer.Option(
        "auto",
        "--from",
        help="The file's format: auto (told by the header), digest, mailchimp, substack, listmonk, buttondown"
        " or ghost. Names, tags (as topics), timezone, sign-up date and status are kept; people the other tool"
        " marks as unsubscribed, cleaned, bounced or disabled are never mailed.",
    ),
    list_name: str = typer.Option(None, "--list", help=LIST_HELP),
    force_resubscribe: bool = typer.Option(False, "--force-resubscribe", help=FORCE_HELP),
    status: str = typer.Option(None, "--status", help=STATUS_HELP),
    rejects: Path = typer.Option(
        None, "--rejects", help="Write refused rows here (line, reason, the row) to fix and import again."
    ),
    check_deliverability: bool = typer.Option(False, "--check-deliverability", help=DELIVERABILITY_HELP),
    json_out: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """Import subscribers: good rows land, each bad row is reported with its line and reason.

    Importing the same file again changes nothing. Exit code 3 when some rows were refused.
    """
    from digest import subscribers

    st = state(ctx)
    size = subscribers.import_size(file)  # the library's checks: a folder or a missing file is one clear line
    with progress() as bar:
        task = bar.add_task(f"Importing {file.name}", total=size)
        report = subscribers.import_csv(
            st.store,
            file,
            _list_name(st, list_name),
            force=force_resubscribe,
            status=status,
            check_deliverability=check_deliverability,
            rejects=rejects,
            on_bytes=lambda n: bar.update(task, completed=n),
            kind=source,
        )
    _print_import(report.as_dict(), json_out, str(file), rejects)
    if report.rejected_count:
        raise typer.Exit(3)


def _print_import(data: dict[str, Any], json_out: bool, source: str, rejects: Path | None = None) -> None:
    if json_out:
        out_json(data)
        return
    for r in data["rejected"]:
        err(f"{r.get('file', source)}:{r['line']}: {r['reason']}")
    if data["rejected_count"] > len(data["rejected"]):
        where = f"all of them are in {rejects}" if rejects else "add --rejects FILE to get every one to fix"
        err(f"... and {data['rejected_count'] - len(data['rejected'])} more rejected rows: {where}")
    for w in data.get("warnings", []):
        err(f"{w.get('file', source)}:{w['line']}: warning: {w['warning']}")
    if data.get("warnings_count", 0) > len(data.get("warnings", [])):
        err(f"... and {data['warnings_count'] - len(data['warnings'])} more warnings")
    if data.get("format") and data["format"] != "digest":
        say(f"Read as a {data['format']} export.")
    if data.get("unused_columns"):
        say(f"Columns not used: {', '.join(data['unused_columns'])}")
    suppressed = f", {data['suppressed']} kept from all mail (gone in the source)" if data.get("suppressed") else ""
    say(
        f"{data['added']} added, {data['updated']} updated, {data['unchanged']} unchanged,"
        f" {data['rejected_count']} rejected{suppressed}"
    )


@subs_app.command("export")
def subs_export(
    ctx: typer.Context,
    list_name: str = typer.Option(None, "--list", help="Only this list (adds a status column)."),
    out: Path = typer.Option(None, "--out", help="Write to this file instead of stdout."),
    json_out: bool = typer.Option(False, "--json", help=JSON_HELP + " (with --out: the file and the count)"),
) -> None:
    """Export subscribers as CSV (email,name,attributes[,status]), safe to open in a spreadsheet.

    Cells a spreadsheet would run as a formula get a leading ' (import removes it again).
    """
    from digest import subscribers

    st = state(ctx)
    if json_out and out is None:
        refuse("--json", "without --out: the CSV itself is what export prints; add --out FILE")
    if out is None:
        subscribers.write_export(st.store, sys.stdout, list_name)
        return
    from digest.render.archive import write_error

    try:
        with out.open("w", encoding="utf-8", newline="") as fh:
            n = subscribers.write_export(st.store, fh, list_name)
    except OSError as exc:
        raise write_error(out, exc) from None
    if json_out:
        out_json({"out": str(out), "subscribers": n})
        return
    say(f"Wrote {n} subscribers to {out}")


@subs_app.command("sync")
def subs_sync(
    ctx: typer.Context,
    folder: Path = typer.Argument(None, help="Folder of <list>.csv files (default: subscribers/ in the home)."),
    force_resubscribe: bool = typer.Option(False, "--force-resubscribe", help=FORCE_HELP),
    json_out: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """Apply each subscribers/<list>.csv to the list of that name, with the same rules as import.

    Adds and updates; nobody missing from a file is unsubscribed. Exit code 3 when a file or a row failed.
    """
    from digest import subscribers

    st = state(ctx)
    report = subscribers.sync(st.store, folder or st.config.subscribers_dir, force=force_resubscribe)
    if json_out:
        out_json(report.as_dict())
    else:
        for entry in report.lists:
            if entry.error:
                err(f"{entry.file}: {entry.error}")
        _print_import(report.total.as_dict(), False, "")
    if report.failed or report.total.rejected_count:
        raise typer.Exit(3)


@subs_app.command("sync-suppressions")
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


def register(app: typer.Typer) -> None:
    app.add_typer(subs_app, name="subscribers")
