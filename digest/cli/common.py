"""What every command shares: the home, the store, JSON output, stderr, progress bars, stopping on SIGTERM."""

from __future__ import annotations

import json
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from functools import cached_property
from types import FrameType
from typing import TYPE_CHECKING, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from digest import clock
from digest import config as config_mod

if TYPE_CHECKING:
    from digest.newsletter import Newsletter
    from digest.store import Store

stderr = Console(stderr=True, highlight=False, soft_wrap=True)

JSON_HELP = "Print one JSON document on stdout and nothing else there."
JSON_META = "digest.json"  # ctx.meta key: --json was given somewhere on the command line


class State:
    def __init__(self, home: str | None) -> None:
        self.home = home
        self._store: Store | None = None

    @cached_property
    def config(self) -> config_mod.Config:
        return config_mod.load(self.home)

    @property
    def store(self) -> Store:
        if self._store is None:
            from digest.store import Store

            self._store = Store(self.config.db_path, create=False)
        return self._store

    @property
    def news(self) -> Newsletter:
        """The library the commands are clients of, on this home's config and store."""
        from digest.newsletter import Newsletter

        return Newsletter(self.config, self.store)


def state(ctx: typer.Context) -> State:
    obj = ctx.find_root().obj
    assert isinstance(obj, State)
    return obj


def err(message: str) -> None:
    """One line on stderr (no markup interpretation)."""
    stderr.print(message, markup=False)


def say(message: str) -> None:
    """A progress or log line on stderr, so stdout stays clean for --json."""
    stderr.print(message, markup=False)


def out_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n")


def error_document(message: str, hint: str, exit_code: int) -> dict[str, Any]:
    """What an error is under --json: the line a person would read, its fix on its own, the exit code."""
    return {"error": {"message": message, "hint": hint, "exit_code": exit_code}}


def refuse(option: str, reason: str) -> None:
    """An option that does not apply here is refused in one line, never silently ignored."""
    from digest.errors import ConfigError

    raise ConfigError(f"{option} does not apply {reason}")


def progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=stderr,
        transient=True,
        disable=not stderr.is_terminal,
    )


def parse_now(value: str | None, option: str = "--now") -> datetime | None:
    """An ISO date or time from ``option``; naive times are UTC."""
    return None if value is None else clock.parse(value, option)


CELL = 60  # longest cell a table shows; --json has every value whole


def _cell(value: Any) -> str:
    text = "" if value is None else " ".join(str(value).split())
    return text if len(text) <= CELL else text[: CELL - 1] + "…"


def table(rows: list[dict[str, Any]], columns: list[str]) -> None:
    """A plain aligned table on stdout (long values cut, line breaks folded)."""
    if not rows:
        typer.echo("(none)")
        return
    cells = [[_cell(r.get(c)) for c in columns] for r in rows]
    widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(columns)]
    typer.echo("  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)).rstrip())
    for row in cells:
        typer.echo("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip())


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
