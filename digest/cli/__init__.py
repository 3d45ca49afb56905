"""The command line's entry point (``digest = "digest.cli:main"``): small on purpose.

``digest --version`` and ``digest --help`` are answered here without importing typer or rich (~100 ms at
start-up): the version from :mod:`digest`, the help from the text typer renders, generated into
:mod:`digest.cli.tophelp` by ``python -m digest.cli.reference --write README.md`` (tests/cli/test_fast_start.py
fails when it is stale). Everything else goes to the typer application in :mod:`digest.cli.root`, built with
only the command asked for. ``from digest.cli import app`` still gives the whole application.
"""

from __future__ import annotations

import os
import sys
from typing import Any

# In the order --help lists them (the root registers them in this order).
COMMANDS = (
    "init", "run", "schedule", "sources", "collect", "stories", "rank", "build", "edition", "render",
    "preview", "templates", "serve", "doctor", "lists", "subscribers", "send", "stats",
)  # fmt: skip

HELP_WIDTH = 80  # help is drawn at most this wide (click's own default), so the stored text fits every wide terminal

# Any of these changes how rich would draw the help (width, colour, terminal or not): typer draws it then.
_RICH_ENV = (
    "TERMINAL_WIDTH", "COLUMNS", "FORCE_COLOR", "PY_COLORS", "GITHUB_ACTIONS", "_TYPER_FORCE_DISABLE_TERMINAL",
    "TTY_COMPATIBLE", "TTY_INTERACTIVE", "NO_COLOR", "JUPYTER_COLUMNS", "JUPYTER_LINES",
)  # fmt: skip


def help_width() -> int:
    """The width rich finds (the first of stdin, stdout, stderr that is a terminal, else 80), at most HELP_WIDTH."""
    for fd in (0, 1, 2):
        try:
            return min(os.get_terminal_size(fd).columns, HELP_WIDTH)
        except (OSError, ValueError):
            continue
    return HELP_WIDTH


def _stored_help() -> str | None:
    """The root's --help exactly as typer would draw it here and now, or None when only typer can tell."""
    if os.path.basename(sys.argv[0]) != "digest" or sys.platform == "win32":  # the usage line names the program
        return None
    if any(name in os.environ for name in _RICH_ENV) or os.environ.get("TERM", "") in ("dumb", "unknown"):
        return None
    if not (sys.stdout.encoding or "").lower().startswith("utf") or help_width() != HELP_WIDTH:
        return None
    from digest.cli import tophelp

    return tophelp.COLOUR if sys.stdout.isatty() else tophelp.PLAIN


def _answer_at_once(args: list[str]) -> bool:
    """``--version`` (with or without ``--json``) and the root's ``--help``, before typer is imported."""
    if args in (["--version"], ["--version", "--json"], ["--json", "--version"]):
        from digest import __version__

        text = f'{{\n  "version": "{__version__}"\n}}' if "--json" in args else f"digest {__version__}"
        sys.stdout.write(text + "\n")
        return True
    if args == ["--help"] and (stored := _stored_help()) is not None:
        sys.stdout.write(stored)
        return True
    return False


def main() -> None:
    args = sys.argv[1:]
    if _answer_at_once(args):
        return
    from digest.cli import root

    root.build(only=args[0] if args and args[0] in COMMANDS else None)()


def __getattr__(name: str) -> Any:
    if name == "app":  # the whole application, for tests and tools (main() builds only what it needs)
        from digest.cli import root

        app = root.build()
        globals()["app"] = app
        return app
    raise AttributeError(f"module 'digest.cli' has no attribute {name!r}")


__all__ = ["COMMANDS", "app", "main"]
