"""The web archive: an index of past editions and each edition's web copy.

The same pages serve two ways: :func:`write_archive` writes them as static files
(``digest render --archive DIR``), and ``digest.web.archive`` serves them at ``/editions``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from digest.config import Config
from digest.errors import DigestError
from digest.render import render_edition
from digest.render.templates import environment, long_date, render_template
from digest.store import Store

Values = Callable[[int], dict[str, str]]


def entries(store: Store, list_id: int | None = None) -> list[dict[str, Any]]:
    """Past editions, newest first, with what the index shows."""
    return [
        {
            "id": e["id"],
            "date": e["date"],
            "date_long": long_date(e["date"]),
            "list": e["list"],
            "subject": e["subject"],
            "stories": e["stories"],
        }
        for e in store.editions(list_id)
    ]


def index_page(config: Config, rows: list[dict[str, Any]], href: Callable[[dict[str, Any]], str]) -> str:
    context = {
        "newsletter": {"name": config.settings.name, "public_url": config.public_url},
        "editions": [{**r, "href": href(r)} for r in rows],
    }
    return render_template(environment(config), "archive.html.j2", context)


def edition_page(store: Store, config: Config, edition_id: int, values: Values) -> str:
    """The edition as the web version shows it (nobody's personal links)."""
    html, _ = render_edition(store, config, edition_id).fill(values(edition_id))
    return html


@dataclass
class ArchiveReport:
    out: Path
    index: Path
    pages: list[Path] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "out": str(self.out),
            "index": str(self.index),
            "editions": len(self.pages),
            "pages": [str(p) for p in self.pages],
        }


def write_archive(
    config: Config,
    store: Store,
    out: Path,
    values: Values,
    list_id: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> ArchiveReport:
    """Write ``out/index.html`` and ``out/editions/<id>.html`` for every past edition."""
    rows = entries(store, list_id)
    pages_dir = out / "editions"
    if out.exists() and not out.is_dir():
        raise DigestError(f"cannot write the archive into {out}: it is a file; give a folder (new or existing)")
    try:
        pages_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise write_error(out, exc) from None
    report = ArchiveReport(out=out, index=out / "index.html")
    for row in rows:
        page = pages_dir / f"{row['id']}.html"
        _write(page, edition_page(store, config, row["id"], values))
        report.pages.append(page)
        if progress:
            progress(1)
    _write(report.index, index_page(config, rows, lambda r: f"editions/{r['id']}.html"))
    return report


def _write(path: Path, text: str) -> None:
    """Write through a temporary file so a reader never sees half a page."""
    tmp = path.with_name(path.name + ".tmp")
    try:
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(path)
    except OSError as exc:
        raise write_error(path, exc) from None


def write_error(path: Path, exc: OSError) -> DigestError:
    """The one line for an output file that cannot be written: what the system said, and what to give instead."""
    if isinstance(exc, FileNotFoundError):
        fix = "give a path in an existing folder"
    elif isinstance(exc, IsADirectoryError):
        fix = "that is a folder; give a file's path"
    elif isinstance(exc, (NotADirectoryError, FileExistsError)):
        fix = "part of the path is a file, not a folder; give another path"
    elif isinstance(exc, PermissionError):
        fix = "give a path you may write to"
    else:
        fix = "give another path"
    return DigestError(f"cannot write {path}: {exc.strerror or exc}; {fix}")
