"""The edition group: the editor's desk on the command line (look at an edition, change it, approve it)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from digest.cli.common import JSON_HELP, bar, err, out_json, say, state

if TYPE_CHECKING:
    from digest.models import Draft, DraftStory
    from digest.newsletter import Newsletter

edition_app = typer.Typer(
    help="The editor's desk: show an edition with why each story is in, change it, approve it.",
    no_args_is_help=True,
)

LIST_HELP = "The list (default: default_list in digest.toml)."
DATE_HELP = "The edition's date, YYYY-MM-DD (default: the list's latest edition)."
RUNNERS_SHOWN = 15  # runners-up the text view lists (--json has them all)


def _open(ctx: typer.Context, list_name: str | None, date: str | None) -> tuple[Newsletter, int]:
    news = state(ctx).news
    return news, news.edition(list_name, date, latest=date is None)


def _done(draft: Draft, json_out: bool, line: str | None = None) -> None:
    """The new draft: the document under --json, else what changed, the notes, and the stories in order."""
    if json_out:
        out_json(draft.as_dict())
        return
    if line:
        say(line)
    for note in draft.notes:
        err(f"note: {note}")
    for s in draft.stories:
        typer.echo(f"{s.rank:>2}. [{s.story_id}] {s.title}{_marks(s)}")


def _marks(s: DraftStory) -> str:
    marks = [m for m, on in (("pinned", s.pinned), ("edited", s.original_title or s.original_blurb)) if on]
    return f"  ({', '.join(marks)})" if marks else ""


def _head(draft: Draft) -> str:
    return f"edition {draft.edition} of '{draft.list}' ({draft.date})"


@edition_app.command("show")
def show(
    ctx: typer.Context,
    list_name: str = typer.Option(None, "--list", help=LIST_HELP),
    date: str = typer.Option(None, "--date", help=DATE_HELP),
    json_out: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """Show an edition as the desk sees it: each story with its score's parts as bars, the runners-up and why
    each lost, the subject and preheader, the changes made and the approval.

    Examples:

        digest edition show
        digest edition show --list weekly --date 2026-11-24 --json
    """
    news, edition_id = _open(ctx, list_name, date)
    draft = news.draft(edition_id)
    if json_out:
        out_json(draft.as_dict())
        return
    where = f"--list {draft.list} --date {draft.date}"
    if draft.frozen:
        status = "sending started: it can no longer change"
    elif draft.approved:
        status = f"approved {draft.approved.at} by {draft.approved.by}"
    elif draft.require_approval:
        status = f"waiting for approval: 'digest edition approve {where} --seen {draft.fingerprint}'"
    else:
        status = "not approved (this list does not need it)"
    typer.echo(f"{_head(draft)[0].upper()}{_head(draft)[1:]}: {status}")
    edited = " (edited; the templates': {})"
    typer.echo(
        f"Subject:   {draft.subject}"
        + (edited.format(draft.original_subject) if draft.subject != draft.original_subject else "")
    )
    typer.echo(
        f"Preheader: {draft.preheader}"
        + (edited.format(draft.original_preheader) if draft.preheader != draft.original_preheader else "")
    )
    typer.echo("")
    top = max((v for s in draft.stories for k, v in s.parts.items() if k != "source"), default=0.0)
    for s in draft.stories:
        typer.echo(f"{s.rank:>2}. [{s.story_id}] {s.title}{_marks(s)}")
        typer.echo(f"    {s.source or 'no source'} · score {s.score:.3f} (source weight ×{s.parts['source']:.2f})")
        for name in ("recency", "engagement", "coverage", "keywords", "pin"):
            if s.parts[name]:
                typer.echo(f"    {name:<10} {bar(s.parts[name], top, 12)} {s.parts[name]:.3f}")
        if s.original_title:
            typer.echo(f"    was: {s.original_title}")
        if s.also:
            typer.echo(f"    also covered by: {', '.join(s.also)}")
    if draft.runners_up:
        typer.echo("")
        typer.echo("Runners-up (swap one in with 'digest edition swap STORY_ID RUNNER_UP_ID'):")
        for r in draft.runners_up[:RUNNERS_SHOWN]:
            typer.echo(f"    [{r.story_id}] {r.title} ({r.source or 'no source'}, {r.score:.3f}): {r.why_lost}")
        if len(draft.runners_up) > RUNNERS_SHOWN:
            typer.echo(f"    ... {len(draft.runners_up) - RUNNERS_SHOWN} more with --json")
    if draft.changes:
        typer.echo("")
        typer.echo("Changes (replayed when the edition is rebuilt; 'digest edition reset' forgets them):")
        for c in draft.changes:
            typer.echo(f"    {c.at}  {c.what}")


@edition_app.command("drop")
def drop(
    ctx: typer.Context,
    story_id: int = typer.Argument(..., help="The story to take out (its id, as 'digest edition show' lists it)."),
    list_name: str = typer.Option(None, "--list", help=LIST_HELP),
    date: str = typer.Option(None, "--date", help=DATE_HELP),
    json_out: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """Take a story out of the edition (it stays out when the edition is rebuilt)."""
    news, edition_id = _open(ctx, list_name, date)
    draft = news.drop_story(edition_id, story_id)
    _done(draft, json_out, f"Dropped story {story_id} from {_head(draft)}")


@edition_app.command("swap")
def swap(
    ctx: typer.Context,
    story_id: int = typer.Argument(..., help="The story to take out."),
    runner_up_id: int = typer.Argument(..., help="The runner-up to put in its place."),
    list_name: str = typer.Option(None, "--list", help=LIST_HELP),
    date: str = typer.Option(None, "--date", help=DATE_HELP),
    json_out: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """Put a runner-up in a story's place.

    Examples:

        digest edition swap 12 40
    """
    news, edition_id = _open(ctx, list_name, date)
    draft = news.swap_story(edition_id, story_id, runner_up_id)
    _done(draft, json_out, f"Swapped story {story_id} for story {runner_up_id} in {_head(draft)}")


@edition_app.command("move")
def move(
    ctx: typer.Context,
    story_id: int = typer.Argument(..., help="The story to move."),
    up: bool = typer.Option(False, "--up", help="One place up (towards the lead)."),
    down: bool = typer.Option(False, "--down", help="One place down."),
    to: int = typer.Option(None, "--to", metavar="N", help="To position N (1 is the lead)."),
    list_name: str = typer.Option(None, "--list", help=LIST_HELP),
    date: str = typer.Option(None, "--date", help=DATE_HELP),
    json_out: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """Move a story up, down, or to a position.

    Examples:

        digest edition move 12 --to 1
        digest edition move 12 --down
    """
    from digest.errors import ConfigError

    if sum((up, down, to is not None)) != 1:
        raise ConfigError("say where to move the story: give one of --up, --down or --to N")
    news, edition_id = _open(ctx, list_name, date)
    draft = (
        news.move_story(edition_id, story_id, to=to) if to is not None else news.move_story(edition_id, story_id, up=up)
    )
    moved = draft.story(story_id)
    _done(draft, json_out, f"Moved story {story_id} to {moved.rank if moved else '?'} in {_head(draft)}")


@edition_app.command("pin")
def pin(
    ctx: typer.Context,
    story_id: int = typer.Argument(..., help="The story (in the edition, or a runner-up to bring in)."),
    list_name: str = typer.Option(None, "--list", help=LIST_HELP),
    date: str = typer.Option(None, "--date", help=DATE_HELP),
    json_out: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """Pin a story in this edition: it stays in, at its place, when the edition is rebuilt (a runner-up is
    brought in). 'digest stories pin ID --list L' boosts a story in that list's rankings from now on instead."""
    news, edition_id = _open(ctx, list_name, date)
    draft = news.pin_story(edition_id, story_id)
    _done(draft, json_out, f"Pinned story {story_id} in {_head(draft)}")


@edition_app.command("edit")
def edit(
    ctx: typer.Context,
    story_id: int = typer.Argument(None, help="The story whose title or blurb to change (none: the edition's)."),
    title: str = typer.Option(None, "--title", help="The story's new title."),
    blurb: str = typer.Option(None, "--blurb", help="The story's new blurb (its summary)."),
    subject: str = typer.Option(None, "--subject", help="The email's subject (\"\" : back to the templates')."),
    preheader: str = typer.Option(None, "--preheader", help="The email's preheader (\"\" : back to the templates')."),
    list_name: str = typer.Option(None, "--list", help=LIST_HELP),
    date: str = typer.Option(None, "--date", help=DATE_HELP),
    json_out: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """Rewrite a story's title or blurb, or the edition's subject or preheader, in this edition only.

    Examples:

        digest edition edit 12 --title "Council approves bike lanes"
        digest edition edit --subject "Bike lanes, a comet, and more"
    """
    from digest.errors import ConfigError

    story_edit = title is not None or blurb is not None
    edition_edit = subject is not None or preheader is not None
    if story_edit and story_id is None:
        raise ConfigError("--title and --blurb change a story: give its id (see 'digest edition show')")
    if not story_edit and not edition_edit:
        raise ConfigError("nothing to edit: give --title or --blurb with a story id, or --subject or --preheader")
    news, edition_id = _open(ctx, list_name, date)
    if story_edit:
        draft = news.edit_story(edition_id, story_id, title=title, blurb=blurb)
    if edition_edit:
        draft = news.edit_edition(edition_id, subject=subject, preheader=preheader)
    texts = " and ".join(k for k, v in (("subject", subject), ("preheader", preheader)) if v is not None)
    what = " and ".join(w for w in (f"story {story_id}" if story_edit else "", f"the {texts}" if texts else "") if w)
    _done(draft, json_out, f"Edited {what} of {_head(draft)}")


@edition_app.command("approve")
def approve(
    ctx: typer.Context,
    by: str = typer.Option("cli", "--by", help="Who approves it (kept with the approval)."),
    seen: str = typer.Option(
        None,
        "--seen",
        help="The fingerprint 'edition show' printed: approve only if the edition is still what you looked at.",
    ),
    list_name: str = typer.Option(None, "--list", help=LIST_HELP),
    date: str = typer.Option(None, "--date", help=DATE_HELP),
    json_out: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """Approve the edition: a list with --require-approval sends it at the next 'digest run'. Any later change
    clears the approval.

    Examples:

        digest edition approve --list main --date 2026-11-24
        digest edition approve --list main --seen 3f9c2a0b1d4e5f60
    """
    news, edition_id = _open(ctx, list_name, date)
    draft = news.approve_edition(edition_id, by=by, seen=seen)
    _done(draft, json_out, f"Approved {_head(draft)}: the next 'digest run' sends it")


@edition_app.command("reset")
def reset(
    ctx: typer.Context,
    list_name: str = typer.Option(None, "--list", help=LIST_HELP),
    date: str = typer.Option(None, "--date", help=DATE_HELP),
    json_out: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """Forget every change made on the desk (and the approval): the edition goes back to its ranking."""
    news, edition_id = _open(ctx, list_name, date)
    draft = news.reset_edition(edition_id)
    _done(draft, json_out, f"Reset {_head(draft)}")


def register(app: typer.Typer) -> None:
    app.add_typer(edition_app, name="edition")
