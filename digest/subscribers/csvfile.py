"""The roster CSV format, both ways: ``email,name,attributes[,status]``.

Reading: UTF-8 with or without a BOM, CRLF or LF, quoted fields with line breaks, separated by commas (or,
when the header has no comma, by semicolons as Excel saves in many locales, or tabs); a header row names
the columns (listmonk's ``uuid,email,name,attributes,status,created_at,updated_at`` works as is; unknown
columns are ignored). Records stream one at a time with the physical line they start on.

Writing: the same columns, every cell that a spreadsheet would run as a formula (leading ``= + - @``,
tab or CR) prefixed with ``'``; reading strips that prefix again, so an export re-imports unchanged.
"""

from __future__ import annotations

import csv
import io
import itertools
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from digest.errors import SubscriberError

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
EMAIL_COLUMNS = ("email", "e-mail", "email_address", "emailaddress", "address")
NAME_COLUMNS = ("name", "full_name", "display_name")
ATTRIBUTE_COLUMNS = ("attributes", "attribs", "attrs")
STATUS_COLUMNS = ("status", "subscription_status")
FIELD_LIMIT = 1_000_000  # characters in one cell; a runaway quote fails with a line number, not a hang


@dataclass(frozen=True)
class Columns:
    header: list[str]
    email: int
    name: int | None
    attributes: int | None
    status: int | None


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


def columns(header: list[str], source: str) -> Columns:
    norm = [h.strip().lower().replace(" ", "_") for h in header]
    email = _find(norm, EMAIL_COLUMNS)
    if email is None:
        raise SubscriberError(
            f"{source}: no 'email' column in the header {header!r};"
            " the first line must name the columns, e.g. email,name,attributes"
        )
    return Columns(
        header, email, _find(norm, NAME_COLUMNS), _find(norm, ATTRIBUTE_COLUMNS), _find(norm, STATUS_COLUMNS)
    )


def read_records(path: Path, on_bytes: Callable[[int], None] | None = None) -> Iterator[tuple[Columns, int, list[str]]]:
    """(columns, line the record starts on, fields) for each non-empty record after the header."""
    csv.field_size_limit(max(csv.field_size_limit(), FIELD_LIMIT))
    try:
        raw = path.open("rb")
    except OSError as exc:
        raise SubscriberError(f"cannot read {path}: {exc.strerror}; give the path of a CSV file") from None
    with raw:
        text = io.TextIOWrapper(raw, encoding="utf-8-sig", newline="")
        line = 0
        try:
            first = text.readline()
            reader = csv.reader(itertools.chain([first], text), delimiter=delimiter(first), strict=False)
            header = next(reader, None)
            if header is None:
                raise SubscriberError(f"{path} is empty; it needs a header line such as email,name,attributes")
            cols = columns(header, str(path))
            line = reader.line_num
            n = 0
            for fields in reader:
                start, line = line + 1, reader.line_num
                if not fields or (len(fields) == 1 and not fields[0]):
                    continue
                yield cols, start, fields
                n += 1
                if on_bytes is not None and n % 4096 == 0:
                    on_bytes(raw.tell())
        except UnicodeDecodeError as exc:
            raise SubscriberError(
                f"{path}:{_first_bad_line(path) or line + 1}: not UTF-8 ({exc.reason});"
                " save the file as UTF-8 and import again"
            ) from None
        except csv.Error as exc:
            raise SubscriberError(f"{path}:{line + 1}: broken CSV ({exc}); check for an unclosed quote") from None
        if on_bytes is not None:
            on_bytes(raw.tell())


def delimiter(header: str) -> str:
    """',' unless the header line is clearly separated by ';' (Excel in many locales) or by tabs."""
    if "," in header:
        return ","
    if ";" in header:
        return ";"
    return "\t" if "\t" in header else ","


def _first_bad_line(path: Path) -> int | None:
    """The physical line of the first bytes that are not UTF-8 (only asked once decoding failed)."""
    with path.open("rb") as fh:
        for number, raw in enumerate(fh, 1):
            try:
                raw.decode("utf-8")
            except UnicodeDecodeError:
                return number
    return None


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
