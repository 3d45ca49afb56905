"""Help that reads well: literal brackets, type names a person understands, env vars shown.

An option whose default is a setting names the ``DIGEST_*`` variable that sets it.

Typer renders help through Rich markup, which eats ``[default_list]`` and ``[rank]`` as tags, and
shows Python's types (``<str>``, ``<list[str]>``, ``<float range> [x>=0.0]``). :func:`humanize` walks
the command tree once, when the root group is built, and fixes both in place; it imports nothing heavy.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from rich.markup import escape

# What a value means, by option or argument name (wins over its Python type).
BY_NAME = {
    "date": "DATE",
    "since": "DATE",
    "now": "TIME",
    "at": "HH:MM",
    "to": "EMAIL",
    "as": "EMAIL",
    "email": "EMAIL",
    "from-email": "EMAIL",
    "reply-to": "EMAIL",
    "list": "LIST",
    "home": "DIR",
    "archive": "DIR",
    "folder": "DIR",
    "out": "FILE",
    "file": "FILE",
    "rejects": "FILE",
    "chart": "FILE",
    "location": "URL|PATH",
    "locations": "URL|PATH",
    "port": "PORT",
    "host": "HOST",
    "provider": "PROVIDER",
    "format": "FORMAT",
}


def _type_name(param: Any) -> str:
    desc = getattr(param, "type_descriptor", None)
    annotation = getattr(desc, "annotation", str)
    args = getattr(annotation, "__args__", ())
    base = args[0] if args and getattr(annotation, "__origin__", None) is list else annotation
    if base in (int, float):
        return "NUMBER"
    if base is Path:
        return "PATH"
    return "TEXT"


def _key(param: Any) -> str:
    long = [o for o in getattr(param, "opts", []) if o.startswith("--")]
    return long[0][2:] if long else str(param.name or "").replace("_", "-")


def _range(param: Any) -> str | None:
    low, high = getattr(param, "min", None), getattr(param, "max", None)
    if low is None and high is None:
        return None
    if high is None:
        return f"at least {low:g}"
    if low is None:
        return f"at most {high:g}"
    return f"{low:g} to {high:g}"


# A setting an option's help names as its default: "[send] provider", "send.provider", "default_list".
_SETTING = re.compile(r"\[(\w+)\] (\w+)|\b(send|rank|sender|serve|collect|sendgrid|smtp|web)\.(\w+)|\b(default_list)\b")


def _env_note(text: str) -> str:
    """Name the variable behind a setting the help mentions, so the default can be set per run or per cron line."""
    found = list(_SETTING.finditer(text))
    if not found:  # most options name no setting: nothing to look up (this runs for every option at start-up)
        return ""
    from digest.config import setting_variables  # light: dataclasses and tomllib only

    known = setting_variables()
    names: list[str] = []
    for m in found:
        section, key = (m.group(1), m.group(2)) if m.group(1) else (m.group(3), m.group(4))
        var = f"DIGEST_{section}_{key}".upper() if section else f"DIGEST_{m.group(5)}".upper()
        if var in known and var not in names:
            names.append(var)
    return f" Env: {', '.join(names)}." if names else ""


def _humanize_param(param: Any) -> None:
    if getattr(param, "help", None):
        param.help = escape(param.help + _env_note(param.help))
    if param.param_type_name == "option":
        if getattr(param, "is_flag", False) or getattr(param, "count", False):
            param.metavar = ""  # a switch takes no value: no type to show
        elif param.metavar is None:
            param.metavar = BY_NAME.get(_key(param), _type_name(param))
        if param.envvar:
            param.show_envvar = True
        span = _range(param)
        param._get_number_range_help_str = lambda span=span: span  # noqa: SLF001 - typer has no public hook
    elif param.param_type_name == "argument":
        kind = BY_NAME.get(_key(param), _type_name(param))
        if param.metavar is None:
            param.metavar = (param.name or "").upper()
        param.display_type_rich = lambda ctx, kind=kind: kind
        usage = param.metavar if param.required else f"[{param.metavar}]"
        usage += "..." if param.nargs != 1 else ""
        param._usage_display_name = lambda usage=usage: usage  # typer's own shows {NAME} for a required one


def _switches(params: list[Any]) -> list[Any]:
    """Options typer adds later (--help, --install-completion) are switches too: no type shown."""
    for param in params:
        if getattr(param, "is_flag", False) and param.metavar is None:
            param.metavar = ""
    return params


def humanize(command: Any) -> None:
    """Escape markup in every help text and name every value's type, for ``command`` and below."""
    for attr in ("help", "short_help"):
        text = getattr(command, attr, None)
        if text:
            setattr(command, attr, escape(text))
    for param in command.params:
        _humanize_param(param)
    get_params = command.get_params
    command.get_params = lambda ctx: _switches(get_params(ctx))
    format_help = command.format_help

    def capped_help(ctx: Any, formatter: Any) -> None:
        cap_width()
        format_help(ctx, formatter)

    command.format_help = capped_help
    for sub in getattr(command, "commands", {}).values():
        humanize(sub)


def cap_width() -> None:
    """Help is drawn at most HELP_WIDTH columns wide (narrower on a narrow terminal), as the stored root help is.

    COLUMNS or TERMINAL_WIDTH, when set, decide instead (rich and typer read them).
    """
    if "TERMINAL_WIDTH" in os.environ or "COLUMNS" in os.environ:
        return
    import typer.rich_utils

    from digest.cli import help_width

    typer.rich_utils.MAX_WIDTH = help_width()


_ESCAPED = re.compile(r"\\(\[)")


def plain(text: str) -> str:
    """A help text as written (what :func:`humanize` escaped, unescaped), e.g. for the README."""
    return _ESCAPED.sub(r"\1", text)
