"""Commands about people: lists and subscribers."""

from __future__ import annotations

from pathlib import Path

import typer

from digest import subscribers
from digest.cli.common import JSON_HELP, err, out_json, say, state, table

lists_app = typer.Typer(help="Subscriber lists and their sender settings.", no_args_is_help=True)
subs_app = typer.Typer(help="Manage people: add, import, list, unsubscribe.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(lists_app, name="lists")
    app.add_typer(subs_app, name="subscribers")


@lists_app.command("add")
def lists_add(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="The list's name, e.g. 'main'."),
    from_email: str = typer.Option(None, "--from-email", help="Sender address (default: [sender] from_email)."),
    from_name: str = typer.Option(None, "--from-name", help="Sender name (default: [sender] from_name)."),
    reply_to: str = typer.Option(None, "--reply-to", help="Reply-To address (default: [sender] reply_to)."),
    subject_prefix: str = typer.Option(None, "--subject-prefix", help="Put before every subject, e.g. '[Daily]'."),
    address: str = typer.Option(None, "--address", help="Postal address for the footer (default: [sender])."),
    double_opt_in: bool = typer.Option(False, "--double-opt-in", help="New subscribers must confirm first."),
) -> None:
    """Create a list."""
    st = state(ctx)
    sender = st.config.settings.sender
    st.store.add_list(
        name,
        from_email=subscribers.normalize_email(from_email or sender.from_email),
        from_name=from_name if from_name is not None else sender.from_name,
        reply_to=subscribers.normalize_email(reply_to) if reply_to else sender.reply_to,
        subject_prefix=subject_prefix if subject_prefix is not None else sender.subject_prefix,
        address=address if address is not None else sender.address,
        double_opt_in=double_opt_in,
    )
    say(f"Created list '{name}'")


@lists_app.command("list")
def lists_list(ctx: typer.Context, json_out: bool = typer.Option(False, "--json", help=JSON_HELP)) -> None:
    """List the lists with their active subscriber counts."""
    rows = state(ctx).store.lists()
    if json_out:
        out_json(rows)
        return
    table(rows, ["name", "active", "from_email", "double_opt_in"])


@subs_app.command("add")
def subs_add(
    ctx: typer.Context,
    email: str = typer.Argument(..., help="The address."),
    name: str = typer.Option("", "--name", help="Their name."),
    list_name: str = typer.Option(None, "--list", help="The list (default: [default_list])."),
) -> None:
    """Subscribe one person to a list."""
    st = state(ctx)
    _, status = subscribers.add(st.store, email, list_name or st.config.settings.default_list, name=name)
    say(f"{email}: {status}")


@subs_app.command("list")
def subs_list(
    ctx: typer.Context,
    list_name: str = typer.Option(None, "--list", help="Only this list."),
    status: str = typer.Option(None, "--status", help="Only this status (confirmed, unsubscribed, ...)."),
    json_out: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """List subscribers and their status per list."""
    st = state(ctx)
    list_id = st.store.list_(list_name)["id"] if list_name else None
    rows = st.store.subscribers(list_id, status)
    if json_out:
        out_json(rows)
        return
    table(rows, ["email", "name", "list", "status"])


@subs_app.command("import")
def subs_import(
    ctx: typer.Context,
    file: Path = typer.Argument(..., help="A CSV with columns email,name,attributes (attributes as JSON)."),
    list_name: str = typer.Option(None, "--list", help="The list (default: [default_list])."),
    force_resubscribe: bool = typer.Option(
        False, "--force-resubscribe",
        help="Re-subscribe people who unsubscribed, bounced, complained or were erased. Only with their new consent.",
    ),
    json_out: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """Import subscribers: good rows land, each bad row is reported with its line and reason."""
    st = state(ctx)
    if not file.is_file():
        from digest.errors import NotFoundError

        raise NotFoundError(f"{file} does not exist: give the path of a CSV file")
    report = subscribers.import_csv(st.store, file, list_name or st.config.settings.default_list,
                                    force=force_resubscribe)
    if json_out:
        out_json(report.as_dict())
    else:
        for r in report.rejected:
            err(f"{file}:{r['line']}: {r['reason']}")
        say(f"{report.added} added, {report.updated} updated, {report.unchanged} unchanged,"
            f" {len(report.rejected)} rejected")


@subs_app.command("export")
def subs_export(
    ctx: typer.Context,
    list_name: str = typer.Option(None, "--list", help="Only this list."),
    out: Path = typer.Option(None, "--out", help="Write to this file instead of stdout."),
) -> None:
    """Export subscribers as CSV (email,name,attributes), safe to open in a spreadsheet."""
    data = subscribers.export_csv(state(ctx).store, list_name)
    if out:
        out.write_text(data, encoding="utf-8")
        say(f"Wrote {out}")
    else:
        typer.echo(data, nl=False)
