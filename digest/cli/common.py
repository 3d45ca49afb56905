"""What every command shares: the home, the store, JSON output, stderr, progress bars, stopping on SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime
from functools import cache, cached_property
from types import FrameType
from typing import TYPE_CHECKING, Any, cast

import typer

from digest.errors import ConfigError

if TYPE_CHECKING:
    from rich.console import Console
    from rich.progress import Progress, TaskID

    from digest import config as config_mod
    from digest.newsletter import Newsletter
    from digest.store import Store

# rich, the config and the clock are imported where they are used: every command's --help imports this module,
# and rich alone costs ~40 ms at start-up (benchmarks/bench_startup.py).


@cache
def stderr() -> Console:
    """The console on stderr (made on first use)."""
    from rich.console import Console

    return Console(stderr=True, highlight=False, soft_wrap=True)


JSON_HELP = "Print one JSON document on stdout and nothing else there."
JSON_META = "digest.json"  # ctx.meta key: --json was given somewhere on the command line


class State:
    def __init__(self, home: str | None) -> None:
        self.home = home
        self._store: Store | None = None

    @cached_property
    def config(self) -> config_mod.Config:
        from digest import config as config_mod

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

        return Newsletter(self.store, self.config)


def state(ctx: typer.Context) -> State:
    obj = ctx.find_root().obj
    assert isinstance(obj, State)
    return obj


_stamped = False  # every stderr line starts with the time (what cron appends to cron.log)


def stamp_lines(on: bool = True) -> None:
    """From now on each line on stderr starts with the time, so a log read days later says when."""
    global _stamped
    _stamped = on


def _stamp(message: str) -> str:
    if not _stamped:
        return message
    from digest import clock

    at = clock.wall().strftime("%Y-%m-%dT%H:%M:%SZ")
    return "\n".join(f"{at} {line}" for line in message.splitlines() or [""])


def err(message: str) -> None:
    """One line on stderr (no markup interpretation)."""
    stderr().print(_stamp(message), markup=False)


def say(message: str) -> None:
    """A progress or log line on stderr, so stdout stays clean for --json."""
    stderr().print(_stamp(message), markup=False)


def out_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n")


def error_document(message: str, hint: str, exit_code: int) -> dict[str, Any]:
    """What an error is under --json: the line a person would read, its fix on its own, the exit code."""
    return {"error": {"message": message, "hint": hint, "exit_code": exit_code}}


def out_json_array(items: Iterable[Any]) -> None:
    """One JSON array, written item by item as :func:`out_json` would lay it out: memory stays flat."""
    write = sys.stdout.write
    first = True
    for item in items:
        text = json.dumps(item, ensure_ascii=False, indent=2, default=str).replace("\n", "\n  ")
        write(("[\n  " if first else ",\n  ") + text)
        first = False
    write("[]\n" if first else "\n]\n")


def refuse(option: str, reason: str) -> None:
    """An option that does not apply here is refused in one line, never silently ignored."""
    raise ConfigError(f"{option} does not apply {reason}")


PROGRESS_EVERY = 10.0  # seconds between progress lines when stderr is not a terminal


class LineProgress:
    """Progress for a log, not a terminal: one line when each step ends (its count, time and rate), and one
    every PROGRESS_EVERY seconds while a long one runs (rate and time left). Same calls as rich's Progress
    (add_task, advance, update)."""

    def __init__(self) -> None:
        self.tasks: list[dict[str, Any]] = []

    def __enter__(self) -> LineProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        for task in self.tasks:  # steps without a total (or cut short) end with the run
            if task["done"] and not task["ended"]:
                self._end(task)

    @staticmethod
    def _end(task: dict[str, Any]) -> None:
        task["ended"] = True
        took = time.monotonic() - task["start"]
        of = f"/{int(task['total'])}" if task["total"] else ""
        rate = f" ({task['done'] / took:.0f}/s)" if took > 0 and task["done"] > 1 else ""
        say(f"{task['description']}: {task['done']}{of} done in {took:.1f} s{rate}")

    def add_task(self, description: str, total: float | None = None, **_: Any) -> TaskID:
        now = time.monotonic()
        task = {"description": description, "total": total, "done": 0, "start": now, "said": now, "ended": False}
        self.tasks.append(task)
        return cast("TaskID", len(self.tasks) - 1)  # rich's TaskID is an int (NewType)

    def advance(self, task_id: TaskID, advance: float = 1) -> None:
        self.update(task_id, completed=self.tasks[task_id]["done"] + advance)

    def update(self, task_id: TaskID, *, completed: float | None = None, total: float | None = None, **_: Any) -> None:
        task = self.tasks[task_id]
        if total is not None:
            task["total"] = total
        if completed is not None:
            task["done"] = int(completed)
        if task["total"] and task["done"] >= task["total"] and not task["ended"]:
            self._end(task)  # the step's line as it ends, not when the run does
            return
        now = time.monotonic()
        if now - task["said"] >= PROGRESS_EVERY:
            task["said"] = now
            say(progress_line(task["description"], task["done"], task["total"], now - task["start"]))


def progress_line(what: str, done: int, total: float | None, elapsed: float) -> str:
    """'sending main: 1200/5000 (240/s, about 16 s left)'; without a total, the count and the rate."""
    rate = done / elapsed if elapsed > 0 else 0.0
    if total:
        left = f", about {(total - done) / rate:.0f} s left" if rate else ""
        return f"{what}: {done}/{int(total)} ({rate:.0f}/s{left})"
    return f"{what}: {done} ({rate:.0f}/s)"


def progress() -> Progress | LineProgress:
    """A live bar on a terminal; timestamped progress lines in a log (cron, a pipe)."""
    if not stderr().is_terminal:
        return LineProgress()
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        ProgressColumn,
        Task,
        TaskProgressColumn,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )
    from rich.text import Text

    class Rate(ProgressColumn):
        def render(self, task: Task) -> Text:
            return Text(f"{task.speed:.0f}/s" if task.speed else "", style="progress.data.speed")

    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TaskProgressColumn(),
        Rate(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=stderr(),
        transient=True,
    )


def parse_now(value: str | None, option: str = "--now") -> datetime | None:
    """An ISO date or time from ``option``; naive times are UTC."""
    if value is None:
        return None
    from digest import clock

    return clock.parse(value, option)


CELL = 60  # longest cell a table shows; --json has every value whole
SHORT = 12  # a column whose values all fit in this many cells is never cut


def _cell(value: Any) -> str:
    text = "" if value is None else " ".join(str(value).split())
    return text if len(text) <= CELL else text[: CELL - 1] + "…"


# Colours a value gets in a table (only on a terminal, and never with NO_COLOR set: rich reads both).
COLOURS = {
    "status": {"ok": "green", "warn": "yellow", "fail": "bold red", "unsubscribed": "dim", "bounced": "red"},
    "receives": {"yes": "green", "no": "dim"},
}


def _style(column: str, value: str) -> str:
    if column == "problem" and value:
        return "yellow" if value.startswith("warning:") else "red"
    return COLOURS.get(column, {}).get(value, "")


PAGE = 1000  # rows a table holds at once: a long listing is printed page by page, in the first page's widths


def table(rows: Iterable[dict[str, Any]], columns: list[str], *, wrap: tuple[str, ...] = ()) -> None:
    """An aligned table on stdout that fits the terminal's width (rich measures cells, so CJK aligns).

    Long values are cut with an ellipsis, except in the ``wrap`` columns, which wrap and are never cut
    (advice a person must read whole). Line breaks inside a value are folded. ``rows`` may be a stream:
    the columns are sized on the first :data:`PAGE` rows and the rest follow a page at a time, so a million
    rows cost the memory of a thousand.
    """
    pages = _pages(rows)
    first = next(pages, [])
    if not first:
        typer.echo("(none)")
        return
    from rich.cells import cell_len
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    def cells(page: list[dict[str, Any]]) -> list[list[str]]:
        return [[_whole(r.get(c)) if c in wrap else _cell(r.get(c)) for c in columns] for r in page]

    body = cells(first)
    natural = [max(cell_len(c), *(cell_len(row[i]) for row in body)) for i, c in enumerate(columns)]
    console = Console(highlight=False)
    if not console.is_terminal and "COLUMNS" not in os.environ:  # a file or a pipe: no width to fit, keep it whole
        console = Console(highlight=False, width=sum(natural) + 2 * len(columns))
    gap = 2 if sum(natural) + 2 * (len(columns) - 1) <= console.width else 1  # tighter before cutting
    widths = fit(natural, console.width - gap * (len(columns) - 1))
    grid = Table(box=None, pad_edge=False, show_edge=False, header_style="bold", padding=(0, gap, 0, 0))
    for c, w in zip(columns, widths, strict=True):
        grid.add_column(c, width=w, overflow="fold" if c in wrap else "ellipsis", no_wrap=c not in wrap)
    for row in body:
        grid.add_row(*(Text(v, style=_style(c, v)) for c, v in zip(columns, row, strict=True)))
    console.print(grid)
    # the pages after the first (only long listings have them): the same columns, laid out directly, without
    # rich's table (a hundred times faster per row) and without colour
    for page in pages:
        out = sys.stdout
        for row in cells(page):
            out.write(_line(row, widths, gap) + "\n")
        out.flush()


def _line(row: list[str], widths: list[int], gap: int) -> str:
    """One row in fixed cell widths, cut with an ellipsis as rich cuts (no wrap: pages after the first)."""
    from rich.cells import cell_len, set_cell_size

    parts = []
    for value, width in zip(row, widths, strict=True):
        if cell_len(value) > width:
            value = set_cell_size(value, width - 1) + "…"
        parts.append(set_cell_size(value, width))
    return (" " * gap).join(parts).rstrip()


def _pages(rows: Iterable[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    import itertools

    it = iter(rows)
    while page := list(itertools.islice(it, PAGE)):
        yield page


def echo(message: str, style: str = "") -> None:
    """A line on stdout, in ``style`` on a terminal (never with NO_COLOR); the text itself is unchanged."""
    from rich.console import Console
    from rich.text import Text

    Console(highlight=False, soft_wrap=True).print(Text(message, style=style))


BLOCKS = " ▏▎▍▌▋▊▉█"


def bar(value: float, top: float, width: int = 20) -> str:
    """``value`` as a bar of ``width`` cells at most (``top`` fills it), in eighths of a cell."""
    eighths = round(8 * width * max(value, 0.0) / top) if top > 0 else 0
    eighths = min(eighths, 8 * width)
    return ("█" * (eighths // 8) + (BLOCKS[eighths % 8] if eighths % 8 else "")).ljust(width)


def fit(natural: list[int], room: int) -> list[int]:
    """Column widths within ``room`` cells: short columns (ids, counts, statuses) keep theirs whole,
    long ones share what is left in proportion to their length (never under 4 cells)."""
    if sum(natural) <= room:
        return natural
    short = sum(w for w in natural if w <= SHORT)
    long = sum(w for w in natural if w > SHORT)
    left = max(room - short, 0)
    return [w if w <= SHORT else max(4, left * w // long) for w in natural]


def _whole(value: Any) -> str:
    return "" if value is None else " ".join(str(value).split())


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
