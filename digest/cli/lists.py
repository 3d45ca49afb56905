"""The lists group: subscriber lists and their sender settings."""

from __future__ import annotations

from dataclasses import asdict
from typing import TYPE_CHECKING, Any

import typer

from digest.cli.common import JSON_HELP, out_json, say, state, table
from digest.cli.shapes import with_aliases

if TYPE_CHECKING:
    from digest.models import MailingList


lists_app = typer.Typer(help="Subscriber lists and their sender settings.", no_args_is_help=True)

TITLE_HELP = "What readers see as the list's name (signup page, mails); default: the name."
DESCRIPTION_HELP = "One line saying what the list is about, shown on the signup page."
SOURCE_HELP = "Draw stories only from this source (its name in 'digest sources list'); repeat."
TAG_HELP = "Draw stories only from sources with this tag ('digest sources add --tag'); repeat."
SEND_AT_HELP = "Send at this local time, HH:MM, e.g. 07:00 (with an hourly 'digest run')."
TIMEZONE_HELP = "The timezone of --send-at and of the editions' dates, e.g. Europe/Paris (default: [digest] timezone)."
WEEKDAY_HELP = "Make the list weekly, sent on this day (monday..sunday) with the week's best; 'daily' for daily."
APPROVAL_HELP = "'digest run' builds each edition and sends it only once the editor approved it."
PUBLIC_HELP = "Whether the signup page offers the list."


@lists_app.command("add")
def lists_add(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="The list's name, e.g. 'main'."),
    from_email: str = typer.Option(None, "--from-email", help="Sender address (default: [sender] from_email)."),
    from_name: str = typer.Option(None, "--from-name", help="Sender name (default: [sender] from_name)."),
    reply_to: str = typer.Option(None, "--reply-to", help="Reply-To address (default: [sender] reply_to)."),
    subject_prefix: str = typer.Option(None, "--subject-prefix", help="Put before every subject, e.g. '[Daily]'."),
    address: str = typer.Option(None, "--address", help="Postal address for the footer (default: [sender] address)."),
    language: str = typer.Option(
        "en", "--language", help="The readers' language, BCP 47 (en, fr, de, es, pt, ar, pt-BR...): labels, date, dir."
    ),
    double_opt_in: bool = typer.Option(
        False, "--double-opt-in", help="New subscribers get a confirmation link and no mail until they use it."
    ),
    boost: list[str] = typer.Option([], "--boost", help="A word or phrase that lifts a story for this list; repeat."),
    block: list[str] = typer.Option([], "--block", help="A word or phrase that keeps a story out; repeat."),
    title: str = typer.Option("", "--title", help=TITLE_HELP),
    description: str = typer.Option("", "--description", help=DESCRIPTION_HELP),
    source: list[str] = typer.Option([], "--source", help=SOURCE_HELP),
    tag: list[str] = typer.Option([], "--tag", help=TAG_HELP),
    send_at: str = typer.Option("", "--send-at", help=SEND_AT_HELP),
    timezone: str = typer.Option("", "--timezone", help=TIMEZONE_HELP),
    weekday: str = typer.Option("", "--weekday", help=WEEKDAY_HELP),
    require_approval: bool = typer.Option(False, "--require-approval", help=APPROVAL_HELP),
    public: bool = typer.Option(True, "--public/--private", help=PUBLIC_HELP),
    json_out: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """Create a list with its sender settings (and, optionally, its editor keywords)."""
    row = state(ctx).news.add_list(
        name,
        from_email=from_email,
        from_name=from_name,
        reply_to=reply_to,
        subject_prefix=subject_prefix,
        address=address,
        double_opt_in=double_opt_in,
        boost=boost,
        block=block,
        title=title,
        description=description,
        language=language,
        sources=source,
        tags=tag,
        send_at=send_at,
        timezone=timezone,
        weekday=weekday,
        require_approval=require_approval,
        public=public,
    )
    if json_out:
        out_json(_list_doc(row))
    else:
        say(f"Created list '{name}' (from {row.from_email}{', double opt-in' if double_opt_in else ''})")
        _say_untranslated(row.language)


def _say_untranslated(language: str) -> None:
    from digest.i18n import MESSAGES, translated  # only when a list's language is set

    if not translated(language):
        say(f"No translation for '{language}' yet: the labels stay English; add {MESSAGES / (language + '.toml')}")


def _list_doc(row: MailingList) -> dict[str, Any]:
    return with_aliases(asdict(row), list_id="id", list="name")


@lists_app.command("edit")
def lists_edit(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="The list's name."),
    from_email: str = typer.Option(None, "--from-email", help="Sender address."),
    from_name: str = typer.Option(None, "--from-name", help="Sender name."),
    reply_to: str = typer.Option(None, "--reply-to", help="Reply-To address ('' for none)."),
    subject_prefix: str = typer.Option(None, "--subject-prefix", help="Put before every subject ('' for none)."),
    address: str = typer.Option(None, "--address", help="Your real postal address for the footer."),
    title: str = typer.Option(None, "--title", help=TITLE_HELP),
    description: str = typer.Option(None, "--description", help=DESCRIPTION_HELP),
    double_opt_in: bool = typer.Option(
        None, "--double-opt-in/--single-opt-in", help="Whether new subscribers must confirm by a link first."
    ),
    language: str = typer.Option(None, "--language", help="The readers' language, BCP 47 (en, fr, ar, pt-BR...)."),
    source: list[str] = typer.Option(None, "--source", help=SOURCE_HELP + " Replaces; --source '' for every source."),
    tag: list[str] = typer.Option(None, "--tag", help=TAG_HELP + " Replaces; --tag '' for every tag."),
    send_at: str = typer.Option(None, "--send-at", help=SEND_AT_HELP + " '' for whenever it runs."),
    timezone: str = typer.Option(None, "--timezone", help=TIMEZONE_HELP),
    weekday: str = typer.Option(None, "--weekday", help=WEEKDAY_HELP),
    require_approval: bool = typer.Option(None, "--require-approval/--no-require-approval", help=APPROVAL_HELP),
    public: bool = typer.Option(None, "--public/--private", help=PUBLIC_HELP),
    json_out: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """Change a list's sender settings, what readers see of it, or whether it asks for confirmation; what is not
    given stays as it is.

    Examples:

        digest lists edit main --address "1 Quay St, Harbor City"
        digest lists edit main --language fr
        digest lists edit world --tag world --tag politics
        digest lists edit weekly --weekday friday --send-at 08:00 --timezone Europe/Paris
    """
    row, changed = state(ctx).news.edit_list(
        name,
        from_email=from_email,
        from_name=from_name,
        reply_to=reply_to,
        subject_prefix=subject_prefix,
        address=address,
        title=title,
        description=description,
        double_opt_in=double_opt_in,
        language=language,
        sources=_replacing(source),
        tags=_replacing(tag),
        send_at=send_at,
        timezone=timezone,
        weekday=weekday,
        require_approval=require_approval,
        public=public,
    )
    if json_out:
        out_json(_list_doc(row))
    else:
        say(
            f"Updated list '{name}'"
            + (f": {', '.join(changed)}" if changed else " (nothing changed: it was already so)")
        )
        if language is not None:
            _say_untranslated(row.language)


def _replacing(given: list[str] | None) -> list[str] | None:
    """A repeatable option that replaces: not given → None (kept); ``''`` alone → [] (cleared)."""
    if not given:  # typer passes an empty sequence or None when the option is absent
        return None
    return [g for g in given if g.strip()]


@lists_app.command("keywords")
def lists_keywords(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="The list's name."),
    boost: list[str] = typer.Option(None, "--boost", help="Words or phrases that lift a story; repeat. Replaces."),
    block: list[str] = typer.Option(None, "--block", help="Words or phrases that keep a story out; repeat. Replaces."),
    clear: bool = typer.Option(False, "--clear", help="Remove every boost and block of the list."),
    json_out: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """Show or set a list's editor keywords (they replace [rank] boost/block for this list)."""
    from digest import subscribers

    row = subscribers.set_keywords(state(ctx).store, name, boost=boost, block=block, clear=clear)
    if json_out:
        out_json({"list": row.name, "boost": list(row.boost), "block": list(row.block)})
        return
    typer.echo(f"boost: {', '.join(row.boost) or '(none)'}")
    typer.echo(f"block: {', '.join(row.block) or '(none)'}")


@lists_app.command("list")
def lists_list(ctx: typer.Context, json_out: bool = typer.Option(False, "--json", help=JSON_HELP)) -> None:
    """List the lists with their sender settings and how many get the next edition.

    ``active`` counts those who receive (on a double opt-in list, only the confirmed); ``pending``
    those waiting for their confirmation click.
    """
    from digest import subscribers

    rows = [with_aliases(r, list_id="id", list="name") for r in subscribers.lists_overview(state(ctx).store)]
    if json_out:
        out_json(rows)
        return
    table(rows, ["name", "active", "pending", "from_email", "from_name", "reply_to", "subject_prefix", "double_opt_in"])


# -- one person ---------------------------------------------------------------------------


def register(app: typer.Typer) -> None:
    app.add_typer(lists_app, name="lists")
