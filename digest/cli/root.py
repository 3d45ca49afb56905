"""The typer application: the root group, its options, and every command registered in --help's order.

Each command parses its options, calls the library, and prints. A :class:`DigestError` becomes
one line on stderr and exit code 1 (see :class:`DigestGroup`); anything else is a bug and keeps
its traceback.

:func:`build` can register a single command: ``digest collect ...`` imports the collect module and
not the sixteen others (see :func:`digest.cli.main`). Command modules import the library inside each
command function, so a command's ``--help`` loads no stage (tests/cli/test_fast_start.py keeps it so).
"""

from __future__ import annotations

import sqlite3
from typing import Any, NoReturn

import typer
from typer.core import TyperGroup
from typer.exceptions import TyperException

from digest import __version__
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
        _coerce_lightly(self)

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


class _LightCoercion:
    """typer coerces every value through a pydantic TypeAdapter built on first use, and importing pydantic
    costs ~60 ms at start-up. A value not given (None) and a string for a plain ``str`` parameter need none:
    they are answered as typer's own coercion would answer them; any other value gets typer's coercion."""

    def __init__(self) -> None:
        self.real: Any = None

    def coerce(self, value: Any, param: Any, ctx: Any) -> Any:
        many = param.multiple or param.nargs == -1
        if value is None:
            return () if many else None
        desc = param.type_descriptor
        if isinstance(value, str) and not many and desc.annotation is str and desc.parameter_info.parser is None:
            return value
        if self.real is None:
            from typer._coercion import build_runtime_param

            self.real = build_runtime_param(desc)
        return self.real.coerce(value, param=param, ctx=ctx)


def _lighten(params: list[Any]) -> list[Any]:
    for param in params:
        if getattr(param, "_runtime_param", False) is None:  # typer's lazy slot, still empty
            param._runtime_param = _LightCoercion()  # noqa: SLF001 - typer has no public hook
    return params


def _coerce_lightly(command: Any) -> None:
    """Every parameter of ``command`` and below, and those typer adds when parsing (--help, completion)."""
    _lighten(command.params)
    get_params = command.get_params
    command.get_params = lambda ctx: _lighten(get_params(ctx))
    for sub in getattr(command, "commands", {}).values():
        _coerce_lightly(sub)


def _version(ctx: typer.Context, value: bool) -> None:
    if value:
        if ctx.meta.get(JSON_META):
            out_json({"version": __version__})
        else:
            typer.echo(f"digest {__version__}")
        raise typer.Exit()


HELP = "Collect stories, rank a Top Stories digest, render it through MJML and send it to your lists."


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


def build(only: str | None = None) -> typer.Typer:
    """The application with every command, or with ``only`` that one (the others' modules are not imported)."""
    import importlib

    from digest.cli import COMMANDS

    app = typer.Typer(
        cls=DigestGroup,
        help=HELP,
        no_args_is_help=True,
        pretty_exceptions_show_locals=False,
    )
    app.callback()(main_options)
    for name in [only] if only in COMMANDS else COMMANDS:  # one module per command (group), in --help's order
        importlib.import_module(f"digest.cli.{name}").register(app)
    return app


__all__ = ["HELP", "DigestGroup", "build"]
