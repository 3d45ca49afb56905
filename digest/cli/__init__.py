"""The command line: the only module that imports typer.

Each command parses its options, calls the library, and prints. A :class:`DigestError` becomes
one line on stderr and exit code 1 (see :class:`DigestGroup`); anything else is a bug and keeps
its traceback.

Fast path, on purpose: command modules import the library inside each command function, so
`digest --version` and `digest --help` load no stage (tests/cli/test_fast_start.py keeps it so).
"""

from __future__ import annotations

import sqlite3
from typing import Any, NoReturn

import typer
from typer.core import TyperGroup
from typer.exceptions import TyperException

from digest import __version__
from digest.cli import (
    build,
    collect,
    doctor,
    init,
    lists,
    preview,
    rank,
    render,
    run,
    schedule,
    send,
    serve,
    sources,
    stats,
    stories,
    subscribers,
    templates,
)
from digest.cli.common import JSON_META, State, err, error_document, out_json, stamp_lines
from digest.cli.helptext import humanize
from digest.errors import DigestError, machine_fault, split_hint


class DigestGroup(TyperGroup):
    """Turns user errors into one line on stderr (one JSON document under --json) and their exit code.

    Help reads as written (see :mod:`digest.cli.helptext`).
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        humanize(self)  # the whole tree is built by now: sub-commands are in self.commands

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        # the root sees every token: whether --json was asked for is known before any error can happen
        ctx.meta[JSON_META] = "--json" in args[: args.index("--")] if "--" in args else "--json" in args
        stamp_lines(False)  # a fresh invocation (tests run many in one process): plain lines until a command asks
        try:
            return super().parse_args(ctx, args)
        except TyperException as exc:  # the root's own usage errors (an unknown option before the command)
            if not ctx.meta[JSON_META]:
                raise
            self._fail(ctx, exc.format_message(), f"see '{ctx.command_path} --help'", exc.exit_code)
            raise  # unreachable: _fail exits

    def invoke(self, ctx):  # type: ignore[no-untyped-def]
        try:
            return super().invoke(ctx)
        except DigestError as exc:
            self._fail(ctx, str(exc), exc.hint, exc.exit_code)
        except (OSError, sqlite3.DatabaseError) as exc:  # a full disk, a read-only home, a locked store
            message = machine_fault(exc)
            if message is None:
                raise
            self._fail(ctx, message, split_hint(message)[1], 1)
        except TyperException as exc:  # a usage error (exit 2) of a sub-command, under --json only
            if not ctx.meta.get(JSON_META):
                raise
            where = getattr(exc, "ctx", None) or ctx
            self._fail(ctx, exc.format_message(), f"see '{where.command_path} --help'", exc.exit_code)

    @staticmethod
    def _fail(ctx: typer.Context, message: str, hint: str, code: int) -> NoReturn:
        if ctx.meta.get(JSON_META):
            out_json(error_document(message, hint, code))
        else:
            err(f"Error: {message}")
        raise typer.Exit(code) from None


app = typer.Typer(
    cls=DigestGroup,
    help="Collect stories, rank a Top Stories digest, render it through MJML and send it to your lists.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)


def _version(ctx: typer.Context, value: bool) -> None:
    if value:
        if ctx.meta.get(JSON_META):
            out_json({"version": __version__})
        else:
            typer.echo(f"digest {__version__}")
        raise typer.Exit()


@app.callback()
def main_options(
    ctx: typer.Context,
    home: str = typer.Option(
        None,
        "--home",
        envvar="DIGEST_HOME",
        show_default="current directory",
        help="The newsletter's home: holds digest.toml, digest.db, outbox/ and optional templates/.",
    ),
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Show the version."),
    json_out: bool = typer.Option(
        False, "--json", help='With --version: print {"version": ...}. Every command has its own --json.'
    ),
) -> None:
    ctx.obj = State(home)


# One module per command (group), registered in the order --help lists them.
init.register(app)
run.register(app)
schedule.register(app)
sources.register(app)
collect.register(app)
stories.register(app)
rank.register(app)
build.register(app)
render.register(app)
preview.register(app)
templates.register(app)
serve.register(app)
doctor.register(app)
lists.register(app)
subscribers.register(app)
send.register(app)
stats.register(app)


def main() -> None:
    app()


__all__ = ["app", "main"]
