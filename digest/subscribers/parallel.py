"""Reading a roster with its records checked, in this process or in a reader process.

:func:`checked_records` yields ``(columns, line, fields, checked)`` in file order. With ``worker``,
a second process (``python -m digest.subscribers.parallel``) parses the CSV and runs
:func:`~digest.subscribers.validate.check_row` on every record, streaming the results back in chunks,
while this process only writes to the store: the two halves of the work run on two cores.
The pipe between them is the backpressure: when the store side is busy the reader blocks, so memory
stays flat whatever the file size.

The reader is a plain subprocess talking pickles over stdout, not ``multiprocessing``: the caller
holds a SQLite connection and perhaps a progress-bar thread (so no fork), and may be a script without
a ``__main__`` guard (so no spawn). Errors in the file (no email column, not UTF-8, broken CSV) come
back as messages and are raised here as the same :class:`SubscriberError`.
"""

from __future__ import annotations

import contextlib
import pickle
import subprocess
import sys
from collections.abc import Callable, Generator, Iterator
from pathlib import Path
from typing import IO, Any

try:
    import fcntl
except ImportError:  # not on Windows
    fcntl = None  # type: ignore[assignment]

from digest.errors import SubscriberError
from digest.subscribers import csvfile
from digest.subscribers.validate import Checked, check_row

CHUNK = 2000
# (columns, line the record starts on, the raw email cell, the record's fields or None, the check)
Record = tuple[csvfile.Columns, int, str, list[str] | None, Checked]


def _checked(
    path: Path, on_bytes: Callable[[int], None] | None, check_deliverability: bool, kind: str = "auto"
) -> Iterator[Record]:
    for cols, line, fields, problem in csvfile.read_records(path, on_bytes, kind):
        got = csvfile.fields_of(cols, fields)
        raw = csvfile.field(fields, cols.email) or ""  # reports name the cell as written
        if problem is not None:
            yield cols, line, raw, fields, problem
            continue
        checked = check_row(
            got.email,
            got.name,
            got.attributes,
            got.status,
            check_deliverability,
            topics=got.topics,
            timezone=got.timezone,
            created=got.created,
            fold_names=True,
        )
        yield cols, line, raw, fields, checked


def checked_records(
    path: Path,
    on_bytes: Callable[[int], None] | None,
    check_deliverability: bool,
    worker: bool,
    keep_fields: bool = True,
    kind: str = "auto",
) -> Generator[Record, None, None]:
    """Every record with its check; ``keep_fields=False`` spares the reader sending whole records."""
    if not worker:
        yield from _checked(path, on_bytes, check_deliverability, kind)
        return
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "digest.subscribers.parallel",
            str(path),
            "1" if check_deliverability else "0",
            "1" if keep_fields else "0",
            str(CHUNK),
            kind,
        ],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
    )
    assert proc.stdout is not None
    _widen(proc.stdout)
    finished = False
    try:
        while True:
            try:
                kind, payload, done = pickle.load(proc.stdout)
            except (EOFError, pickle.UnpicklingError):
                raise SubscriberError(
                    "the reader process stopped unexpectedly; import again"
                    " (rows already imported stay, nothing is doubled)"
                ) from None
            if kind == "error":
                raise SubscriberError(payload)
            if on_bytes is not None:
                on_bytes(done)
            if kind == "done":
                finished = True
                return
            cols, rows = payload
            for line, email, fields, checked in rows:
                yield cols, line, email, fields, checked
    finally:
        if not finished:
            proc.kill()
        proc.stdout.close()
        proc.wait(10)


def _widen(pipe: IO[bytes], size: int = 1 << 20) -> None:
    """Let the reader run ahead about one batch while this side writes (Linux; elsewhere a no-op)."""
    set_size = getattr(fcntl, "F_SETPIPE_SZ", None) if fcntl is not None else None
    if set_size is not None:
        with contextlib.suppress(OSError):
            fcntl.fcntl(pipe.fileno(), set_size, size)


def _serve(path: Path, check_deliverability: bool, keep_fields: bool, size: int, out: IO[bytes], kind: str) -> None:
    """The reader process: parse, check, and send chunks of (line, email, fields, checked) down ``out``."""
    done = 0

    def progress(n: int) -> None:
        nonlocal done
        done = n

    def send(message: tuple[str, Any, int]) -> None:
        pickle.dump(message, out, protocol=pickle.HIGHEST_PROTOCOL)

    chunk: list[tuple[int, str, list[str] | None, Checked]] = []
    cols = None
    try:
        for cols, line, email, fields, checked in _checked(path, progress, check_deliverability, kind):
            chunk.append((line, email, fields if keep_fields else None, checked))
            if len(chunk) >= size:
                send(("rows", (cols, chunk), done))
                chunk = []
        if chunk:
            send(("rows", (cols, chunk), done))
        send(("done", None, done))
    except SubscriberError as exc:
        send(("error", str(exc), done))
    out.flush()


if __name__ == "__main__":
    try:
        _serve(
            Path(sys.argv[1]), sys.argv[2] == "1", sys.argv[3] == "1", int(sys.argv[4]), sys.stdout.buffer, sys.argv[5]
        )
    except BrokenPipeError:  # the importer stopped reading (it failed or was interrupted)
        sys.exit(1)
