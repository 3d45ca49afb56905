"""The roster CSV format, both ways: ``email,name,attributes[,status]``.

Reading: UTF-8 with or without a BOM, CRLF or LF, quoted fields with line breaks, separated by commas (or,
when the header has no comma, by semicolons as Excel saves in many locales, or tabs); a header row names
the columns. Which columns mean what depends on the file's format (digest's own, or an export from
Mailchimp, Substack, listmonk, Buttondown or Ghost: :mod:`digest.subscribers.formats`); columns nothing
reads are named in the report. Records stream one at a time with the physical line they start on; a
record with bytes that are not UTF-8 or a quote that never closes is refused with that line, and the
records around it still land.

Writing: the same columns, every cell that a spreadsheet would run as a formula (leading ``= + - @``,
tab or CR) prefixed with ``'``; reading strips that prefix again, so an export re-imports unchanged.
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from digest.errors import SubscriberError
from digest.subscribers import formats

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
FIELD_LIMIT = 1_000_000  # characters in one cell; a runaway quote fails that record with a line number, not a hang
_NOT_UTF8 = re.compile("[\udc80-\udcff]")  # bytes that were not UTF-8, kept by surrogateescape


@dataclass(frozen=True)
class Columns:
    """Where each field is in this file's records (indexes into the header), for its format."""

    header: list[str]
    email: int
    name: int | None
    attributes: int | None
    status: int | None
    format: str = "digest"
    first: int | None = None
    last: int | None = None
    tags: int | None = None
    timezone: int | None = None
    created: int | None = None
    flags: tuple[tuple[int, str | None, str | None], ...] = ()
    file_status: str | None = None  # every record's status, when the file itself says it (Mailchimp)
    unused: tuple[str, ...] = ()  # header columns nothing reads, named once in the report


@dataclass(frozen=True, slots=True)
class Fields:
    """One record mapped onto digest's fields, still unchecked."""

    email: str
    name: str | None
    attributes: str | None
    status: str | None
    topics: tuple[str, ...]
    timezone: str | None
    created: str | None


def safe_cell(value: str) -> str:
    """Spreadsheet formula injection guard: a leading = + - @ tab or CR is quoted with '."""
    return "'" + value if value.startswith(FORMULA_START) else value


def unescape_cell(value: str) -> str:
    """Undo :func:`safe_cell`."""
    return value[1:] if value[:1] == "'" and value[1:2] in FORMULA_START else value


def _find(header: list[str], names: tuple[str, ...]) -> int | None:
    for wanted in names:
        if wanted in header:
            return header.index(wanted)
    return None


def columns(header: list[str], source: str, kind: str = "auto") -> Columns:
    fmt = formats.choose(kind, header)
    norm = [formats.normalise(h) for h in header]
    email = _find(norm, fmt.email)
    if email is None:
        raise SubscriberError(
            f"{source}: no 'email' column in the header {header!r} (read as a {fmt.name} file);"
            " the first line must name the columns, e.g. email,name,attributes"
        )
    found = {
        key: _find(norm, getattr(fmt, key))
        for key in ("name_column", "first", "last", "attributes", "status", "tags", "timezone", "created")
    }
    flags = tuple((i, on, off) for col, on, off in fmt.flags if (i := _find(norm, (col,))) is not None)
    file_status = next((status for col, status in fmt.file_status if col in norm), None)
    used = {email, *(i for i in found.values() if i is not None), *(i for i, _, _ in flags)}
    if file_status is not None:
        used |= {norm.index(col) for col, _ in fmt.file_status if col in norm}
    unused = tuple(h for i, h in enumerate(header) if i not in used and h.strip())
    return Columns(
        header,
        email,
        found["name_column"],
        found["attributes"],
        found["status"],
        fmt.name,
        found["first"],
        found["last"],
        found["tags"],
        found["timezone"],
        found["created"],
        flags,
        file_status,
        unused,
    )


def fields_of(cols: Columns, record: list[str]) -> Fields:
    """The record's address, name, attributes, status, topics, timezone and sign-up date, as its format says."""
    fmt = formats.FORMATS[cols.format]
    name = field(record, cols.name)
    if not name and (cols.first is not None or cols.last is not None):
        name = " ".join(p.strip() for p in (field(record, cols.first), field(record, cols.last)) if p and p.strip())
    status: str | None = cols.file_status
    if status is None and (word := field(record, cols.status)):
        try:
            status = fmt.word(word)
        except SubscriberError:
            status = word  # the check refuses it, naming the word
    for index, on_true, on_false in cols.flags:
        value = formats.truth(field(record, index) or "")
        meant = on_true if value is True else on_false if value is False else None
        if meant is not None:
            status = meant
    tags = field(record, cols.tags)
    return Fields(
        (field(record, cols.email) or "").strip(" \t"),  # spaces around are a spreadsheet's; a line break is refused
        name,
        field(record, cols.attributes),
        status,
        formats.split_tags(tags) if tags else (),
        (field(record, cols.timezone) or "").strip() or None,
        (field(record, cols.created) or "").strip() or None,
    )


class _Lines:
    """The physical lines the csv reader takes, remembered for the record in hand: when a quote runs away,
    the lines after the one that opened it are read again as records of their own."""

    def __init__(self, lines: Iterator[str]) -> None:
        self.lines = lines
        self.taken: list[str] = []

    def __iter__(self) -> _Lines:
        return self

    def __next__(self) -> str:
        line = next(self.lines)
        self.taken.append(line)
        return line


def _runaway(taken: list[str], sep: str) -> bool:
    """Whether a record that spans lines does so only because a quote is never closed (it ran to the end)."""
    try:
        for _ in csv.reader(io.StringIO("".join(taken)), delimiter=sep, strict=True):
            pass
    except csv.Error as exc:
        return "unexpected end of data" in str(exc)
    return False


def _not_utf8(fields: list[str]) -> str | None:
    for cell in fields:
        if (m := _NOT_UTF8.search(cell)) is not None:
            byte = ord(m.group()) - 0xDC00
            return f"not UTF-8 (byte 0x{byte:02x}); save the file as UTF-8 and import it again"
    return None


Record = tuple[Columns, int, list[str], str | None]


def read_records(path: Path, on_bytes: Callable[[int], None] | None = None, kind: str = "auto") -> Iterator[Record]:
    """(columns, line the record starts on, fields, what is wrong with it or None) for each non-empty record.

    A record with bytes that are not UTF-8, or one whose quote never closes, is yielded with its reason
    (the lines after an unclosed quote's are read again as records): one bad record never costs the
    good ones around it.
    """
    csv.field_size_limit(max(csv.field_size_limit(), FIELD_LIMIT))
    try:
        raw = path.open("rb")
    except OSError as exc:
        raise SubscriberError(f"cannot read {path}: {exc.strerror}; give the path of a CSV file") from None
    with raw:
        text = io.TextIOWrapper(raw, encoding="utf-8-sig", errors="surrogateescape", newline="")
        first = text.readline()
        sep = delimiter(first)
        source = _Lines(itertools.chain([first], text))
        reader = csv.reader(source, delimiter=sep, strict=False)
        try:
            header = next(reader, None)
        except csv.Error as exc:
            raise SubscriberError(f"{path}:1: broken header ({exc}); check for an unclosed quote") from None
        if header is None:
            raise SubscriberError(f"{path} is empty; it needs a header line such as email,name,attributes")
        cols = columns(header, str(path), kind)
        offset, line, n = 0, reader.line_num, 0
        while True:
            source.taken = []
            start = offset + line + 1
            problem: str | None = None
            try:
                fields = next(reader)
            except StopIteration:
                break
            except csv.Error:  # a cell over FIELD_LIMIT: most likely a quote that runs away
                fields = []
                problem = f"a quote opened on this line is never closed (a cell runs past {FIELD_LIMIT:,} characters)"
            else:
                line = reader.line_num
                if not fields or (len(fields) == 1 and not fields[0]):
                    continue
                spans = len(source.taken) > 1 or any("\n" in f or "\r" in f for f in fields)
                if spans and _runaway(source.taken, sep):
                    problem = "a quote opened on this line is never closed; close it"
                elif (bad := _not_utf8(fields)) is not None:
                    problem = bad
            if problem is not None and problem.startswith("a quote"):
                # read the lines after the one that opened the quote again, as records of their own
                opened = source.taken[0].rstrip("\r\n") if source.taken else ""
                source = _Lines(itertools.chain(source.taken[1:], source.lines))
                reader = csv.reader(source, delimiter=sep, strict=False)
                offset, line = start, 0
                fields = next(csv.reader([opened[: FIELD_LIMIT // 2]], delimiter=sep, strict=False), [])
            yield cols, start, fields, problem
            n += 1
            if on_bytes is not None and n % 4096 == 0:
                on_bytes(raw.tell())
        if on_bytes is not None:
            on_bytes(raw.tell())


def delimiter(header: str) -> str:
    """',' unless the header line is clearly separated by ';' (Excel in many locales) or by tabs."""
    if "," in header:
        return ","
    if ";" in header:
        return ";"
    return "\t" if "\t" in header else ","


def field(fields: list[str], index: int | None) -> str | None:
    if index is None or index >= len(fields):
        return None
    return unescape_cell(fields[index])


def write_roster(out: IO[str], rows: Iterable[tuple[str, str, str, str | None]], *, with_status: bool) -> int:
    """Write email,name,attributes[,status] rows; returns how many."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["email", "name", "attributes", "status"] if with_status else ["email", "name", "attributes"])
    n = 0
    for email, name, attributes, status in rows:
        attrs = attributes if attributes and attributes != "{}" else ""
        if attrs:
            attrs = json.dumps(json.loads(attrs), ensure_ascii=False, sort_keys=True)
        cells = [safe_cell(email), safe_cell(name), safe_cell(attrs)]
        writer.writerow([*cells, status or ""] if with_status else cells)
        n += 1
    return n
